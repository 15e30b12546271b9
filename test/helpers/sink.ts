import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

/** A request as the sink received it. */
export interface ReceivedRequest {
  method: string
  url: string
  headers: IncomingMessage['headers']
  /** Raw header lines as sent (to see duplicates and exact bytes). */
  rawHeaders: string[]
  body: Buffer
  receivedAt: number
}

/** What the sink does with one request. Tests switch behaviours on command. */
export type SinkBehaviour =
  | { kind: 'respond', status: number, headers?: Record<string, string>, body?: string | Buffer }
  /** Accept the request and never answer. */
  | { kind: 'hang' }
  /** Destroy the socket as soon as the request arrives (before any response byte). */
  | { kind: 'reset' }
  /** Send headers and part of the body, then destroy the socket. */
  | { kind: 'resetMidResponse', status: number }
  /** Answer after a delay. */
  | { kind: 'delay', ms: number, status: number, headers?: Record<string, string>, body?: string }
  /** Drip the body one byte every `intervalMs` (slow loris). */
  | { kind: 'drip', status: number, bytes: number, intervalMs: number }

/** Decides the behaviour for the n-th request (0-based); may also look at the request. */
export type SinkPolicy = (request: ReceivedRequest, index: number) => SinkBehaviour

export interface Sink {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string
  readonly port: number
  readonly requests: ReceivedRequest[]
  /** Rule violations found by the validator, one string each. Tests assert this stays empty. */
  readonly violations: string[]
  /** TCP connections accepted so far (to check keep-alive reuse). */
  readonly connections: number
  setPolicy (policy: SinkPolicy): void
  /** Resolves when at least `n` requests have been received. */
  waitForRequests (n: number, timeoutMs?: number): Promise<void>
  close (): Promise<void>
}

export interface SinkOptions {
  /** Checks each request against the destination's published rules; returns violations. */
  validate?: (request: ReceivedRequest) => string[]
  policy?: SinkPolicy
  /** Largest body read; bigger bodies are a violation and get a 413. Default 2 MiB. */
  maxBodyBytes?: number
  /** Listen on this port (to bring a closed sink back where a collector expects it). Default 0. */
  port?: number
}

export const ok = (status = 200, body = ''): SinkPolicy => () => ({ kind: 'respond', status, body })

/** Starts a real HTTP server on 127.0.0.1, port 0, standing in for a destination. */
export async function startSink (options: SinkOptions = {}): Promise<Sink> {
  const requests: ReceivedRequest[] = []
  const violations: string[] = []
  const sockets = new Set<Socket>()
  const waiters: Array<{ n: number, resolve: () => void }> = []
  let policy: SinkPolicy = options.policy ?? ok()
  const maxBodyBytes = options.maxBodyBytes ?? 2 * 1024 * 1024
  const pendingTimers = new Set<NodeJS.Timeout>()
  let connections = 0

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= maxBodyBytes) chunks.push(chunk)
    })
    req.on('end', () => {
      const received: ReceivedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks),
        receivedAt: Date.now()
      }
      const index = requests.length
      requests.push(received)
      if (size > maxBodyBytes) {
        violations.push(`request ${index}: body of ${size} bytes exceeds ${maxBodyBytes}`)
        res.writeHead(413).end()
      } else {
        if (options.validate !== undefined) {
          for (const violation of options.validate(received)) violations.push(`request ${index}: ${violation}`)
        }
        act(policy(received, index), req, res)
      }
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (requests.length >= waiters[i].n) {
          waiters[i].resolve()
          waiters.splice(i, 1)
        }
      }
    })
  })

  function later (ms: number, fn: () => void): void {
    const timer = setTimeout(() => { pendingTimers.delete(timer); fn() }, ms)
    pendingTimers.add(timer)
  }

  function act (behaviour: SinkBehaviour, req: IncomingMessage, res: ServerResponse): void {
    switch (behaviour.kind) {
      case 'respond':
        res.writeHead(behaviour.status, behaviour.headers).end(behaviour.body ?? '')
        return
      case 'hang':
        return
      case 'reset':
        req.socket.destroy()
        return
      case 'resetMidResponse':
        res.writeHead(behaviour.status, { 'content-length': '1000' })
        res.write('partial')
        later(5, () => req.socket.destroy())
        return
      case 'delay':
        later(behaviour.ms, () => {
          if (!res.destroyed) res.writeHead(behaviour.status, behaviour.headers).end(behaviour.body ?? '')
        })
        return
      case 'drip': {
        res.writeHead(behaviour.status, { 'content-length': String(behaviour.bytes) })
        let sent = 0
        const step = (): void => {
          if (res.destroyed || sent >= behaviour.bytes) { res.end(); return }
          res.write('x')
          sent++
          later(behaviour.intervalMs, step)
        }
        step()
      }
    }
  }

  server.on('connection', (socket: Socket) => {
    connections++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', resolve)
  })
  const port = (server.address() as AddressInfo).port

  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    requests,
    violations,
    get connections () { return connections },
    setPolicy (next: SinkPolicy) { policy = next },
    waitForRequests (n: number, timeoutMs = 5000) {
      if (requests.length >= n) return Promise.resolve()
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`sink received ${requests.length} of ${n} requests in ${timeoutMs} ms`)), timeoutMs)
        waiters.push({ n, resolve: () => { clearTimeout(timer); resolve() } })
      })
    },
    async close () {
      for (const timer of pendingTimers) clearTimeout(timer)
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
