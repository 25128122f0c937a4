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

export interface DogStatsdEvent {
  /** Events with the same key are grouped by Datadog (synthex uses the alert's fingerprint). */
  readonly aggregationKey: string
  readonly alertType: 'error' | 'info' | 'success' | 'warning'
  readonly tags: Readonly<Record<string, string>>
  readonly text: string
  /** When it happened. */
  readonly time: Date
  readonly title: string
}

/** A title or text as the event datagram carries it: on one line, newlines written `\\n` as the DogStatsD protocol says. */
const eventField = (value: string): string => value.replaceAll(/\r\n|\r|\n/g, '\\n')

/**
 * A DogStatsD event: `_e{<title bytes>,<text bytes>}:<title>|<text>|d:<seconds>|k:<key>|p:normal|t:<type>|s:synthex|#tags`.
 * The lengths are in UTF-8 bytes of the fields as sent (the agent reads the title and text
 * by length, so a `|` in them is safe); tag values are kept plain (tagValue).
 */
export function eventDatagram(event: DogStatsdEvent): string {
  const title = eventField(event.title)
  const text = eventField(event.text)
  const tags = Object.entries(event.tags).map(([key, value]) => `${tagValue(key)}:${tagValue(value)}`)
  return (
    `_e{${Buffer.byteLength(title)},${Buffer.byteLength(text)}}:${title}|${text}` +
    `|d:${Math.floor(event.time.getTime() / 1000)}|k:${tagValue(event.aggregationKey)}|p:normal|t:${event.alertType}|s:synthex` +
    (tags.length > 0 ? `|#${tags.join(',')}` : '')
  )
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
