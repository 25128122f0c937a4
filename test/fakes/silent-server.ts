import {createServer, type Socket} from 'node:net'

/** A TCP server on 127.0.0.1 that accepts connections and never answers: a hung database. */
export async function silentServer(): Promise<{close(): Promise<void>; readonly connections: number; readonly port: number}> {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
    get connections() {
      return sockets.size
    },
    port: (server.address() as {port: number}).port,
  }
}
