import {createSocket} from 'node:dgram'

import type {DogStatsdTarget} from '../config/environment.js'

/**
 * Command figures to a Datadog agent over DogStatsD (UDP): fire and forget, so an agent that
 * is down, slow or absent never slows or fails a command.
 */

/** Tag values: DogStatsD reserves `|`, `,`, `#` and `:` (the last only in keys); keep it plain. */
const tagValue = (value: string): string => value.replaceAll(/[^\w./-]/g, '_')

export function commandDatagrams(run: {command: string; durationMs: number; exitCode: number; outcome: string}): string[] {
  const tags = `#command:${tagValue(run.command)},outcome:${tagValue(run.outcome)},exit_code:${run.exitCode}`
  return [`synthex.command.duration:${Math.round(run.durationMs * 100) / 100}|ms|${tags}`, `synthex.command.runs:1|c|${tags}`]
}

/** Sends the datagrams; resolves when they are handed to the OS, or after `waitMs` at most, never rejecting. */
export async function sendDatagrams(target: DogStatsdTarget, datagrams: readonly string[], waitMs = 100): Promise<void> {
  await new Promise<void>((resolve) => {
    let socket: ReturnType<typeof createSocket> | undefined
    const done = (): void => {
      clearTimeout(timer)
      try {
        socket?.close()
      } catch {
        // Already closed.
      }

      resolve()
    }

    const timer = setTimeout(done, waitMs)
    timer.unref()
    try {
      socket = createSocket(target.host.includes(':') ? 'udp6' : 'udp4')
      socket.unref()
      socket.on('error', done)
      let left = datagrams.length
      for (const datagram of datagrams) {
        socket.send(datagram, target.port, target.host, () => {
          left--
          if (left === 0) done()
        })
      }
    } catch {
      done()
    }
  })
}
