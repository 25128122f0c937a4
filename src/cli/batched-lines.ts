/**
 * Lines written to a stream together, once per turn of the event loop: `serve`'s access log
 * writes one line per request, and stdout on a pipe (journald, a log collector) is written
 * synchronously, a system call each; gathered, the requests answered in one turn cost one.
 * Lines keep their order; `flush` writes what is pending at once (before exiting).
 */
export interface BatchedLines {
  flush(): void
  write(line: string): void
}

export function batchedLines(write: (text: string) => void): BatchedLines {
  let pending: string[] = []
  let scheduled = false
  const flush = (): void => {
    scheduled = false
    if (pending.length === 0) return
    const text = pending.join('')
    pending = []
    write(text)
  }

  return {
    flush,
    write(line) {
      pending.push(line.endsWith('\n') ? line : `${line}\n`)
      if (!scheduled) {
        scheduled = true
        setImmediate(flush)
      }
    },
  }
}
