import {connect, type Socket} from 'node:net'

import type {NetworkPolicy} from './address-policy.js'
import {guardedLookup} from './guarded-lookup.js'
import {networkError, OutboundError} from './outbound-error.js'
import {hostProblem} from './outbound-url.js'

/**
 * A TCP connection under the same address policy as outbound-request.ts, for protocols a
 * library speaks over a socket it is handed (SMTP through nodemailer's getSocket).
 */
export async function guardedConnect(hostname: string, port: number, options: {policy: NetworkPolicy; signal?: AbortSignal; timeoutMs: number}): Promise<Socket> {
  const host = hostname.replace(/^\[|\]$/g, '')
  const problem = hostProblem(host, options.policy)
  if (problem) throw new OutboundError(`refused: the host ${problem}`, 'refused')
  if (options.signal?.aborted) throw new OutboundError('interrupted', 'interrupted')
  return new Promise<Socket>((resolve, reject) => {
    const socket = connect({host, lookup: guardedLookup(options.policy), port})
    const settle = (error?: OutboundError): void => {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
      socket.removeListener('error', onError)
      if (!error) return resolve(socket)
      socket.destroy()
      reject(error)
    }

    const onError = (error: Error): void => settle(networkError(error))
    const onAbort = (): void => settle(new OutboundError('interrupted', 'interrupted'))
    const timer = setTimeout(() => settle(new OutboundError(`could not connect within ${Math.round(options.timeoutMs / 100) / 10}s`, 'timeout')), options.timeoutMs)
    options.signal?.addEventListener('abort', onAbort, {once: true})
    socket.once('error', onError)
    socket.once('connect', () => settle())
  })
}
