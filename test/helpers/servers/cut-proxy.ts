import { connect, createServer, type Socket } from 'node:net'
import type { TapTest } from '../collectors.js'

/** A TCP proxy on 127.0.0.1 that can drop a connection at a chosen moment of the server's reply. */
export interface CutProxy {
  port: number
  /** Cuts the next `count` connections whose server reply contains `marker`, before forwarding that reply. */
  cutOnReply: (marker: string, count: number) => void
  /** Replies withheld and connections cut so far. */
  readonly cuts: number
}

export async function startCutProxy (t: TapTest, targetPort: number): Promise<CutProxy> {
  const sockets = new Set<Socket>()
  let marker: Buffer | undefined
  let remaining = 0
  let cuts = 0
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1')
    sockets.add(client)
    sockets.add(upstream)
    const cut = (): void => {
      client.destroy()
      upstream.destroy()
    }
    client.on('data', (chunk) => upstream.write(chunk))
    upstream.on('data', (chunk: Buffer) => {
      if (marker !== undefined && remaining > 0 && chunk.includes(marker)) {
        remaining--
        cuts++
        cut()
        return
      }
      client.write(chunk)
    })
    client.on('close', cut).on('error', cut)
    upstream.on('close', cut).on('error', cut)
    client.on('close', () => sockets.delete(client))
    upstream.on('close', () => sockets.delete(upstream))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return {
    port: (server.address() as { port: number }).port,
    cutOnReply (text, count) {
      marker = Buffer.from(text)
      remaining = count
    },
    get cuts () { return cuts }
  }
}
