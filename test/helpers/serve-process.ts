import {startCli} from './cli.js'
import {waitFor} from './wait.js'

export interface ServeProcess {
  /** Lines of the access log so far (stdout, one JSON object each). */
  accessLog(): Array<Record<string, unknown>>
  readonly child: ReturnType<typeof startCli>['child']
  readonly done: ReturnType<typeof startCli>['done']
  output(): {stderr: string; stdout: string}
  /** SIGTERM, then the exit. */
  stop(): Promise<Awaited<ReturnType<typeof startCli>['done']>>
  readonly url: string
}

/** Starts `synthex serve --port 0` and waits until it says where it listens. */
export async function startServe(env: Record<string, string | undefined>, args: readonly string[] = []): Promise<ServeProcess> {
  const started = startCli(['serve', '--port', '0', ...args], {env, timeoutMs: 300_000})
  const url = await waitFor(
    async () => {
      const said = /listening on (http:\/\/\S+)/.exec(started.output().stderr)?.[1]
      if (said) return said
      const exited = await Promise.race([started.done.then((result) => result), new Promise<undefined>((resolve) => setTimeout(resolve, 0, undefined))])
      if (exited) throw new Error(`serve exited ${exited.code}: ${exited.stderr}`)
      return undefined
    },
    60_000,
    'serve to listen',
  )
  return {
    accessLog: () =>
      started
        .output()
        .stdout.split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    child: started.child,
    done: started.done,
    output: started.output,
    async stop() {
      started.child.kill('SIGTERM')
      return started.done
    },
    url,
  }
}
