/**
 * Waits for `work`, but no longer than `ms`: what runs on a command's way out (usage records,
 * closing the database) must not keep it from ending. Undefined when time ran out.
 */
export async function waitAtMost<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([work, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))])
  } finally {
    clearTimeout(timer)
  }
}
