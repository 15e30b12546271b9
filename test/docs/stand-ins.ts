import { connect, type AddressInfo } from 'node:net'
import { createServer, type Server } from 'node:tls'
import { generate } from 'selfsigned'
import { startSink, ok, type Sink } from '../helpers/sink.js'
import { validateGa4Request } from '../servers/ga4-rules.js'
import { plausibleRules } from '../servers/plausible-rules.js'
import { webhookRules } from '../servers/webhook-rules.js'

// Real local servers standing in for the destinations the docs samples name, each validating what
// it receives against the destination's published rules (test/servers/*-rules.ts). The samples
// speak HTTPS to the real host names: a TLS front on 127.0.0.1 with a certificate for those names
// terminates TLS and passes the bytes to the plain-HTTP sink (test/helpers/sink.ts).

/** The destinations the docs name, by host, and the rules their stand-in enforces. */
const DESTINATIONS = {
  ga4: { hosts: ['www.google-analytics.com', 'region1.google-analytics.com'], validate: validateGa4Request, status: 204 },
  // The docs' Plausible samples are for the site example.com.
  plausible: { hosts: ['plausible.io'], validate: plausibleRules({ domain: 'example.com' }), status: 202 },
  // The webhook samples post to https://hooks.example.com/analytics; the signature is not checked
  // here (only samples that set a secret sign), the body is checked against the shipped schema.
  webhook: { hosts: ['hooks.example.com'], validate: webhookRules({ path: '/analytics' }), status: 200 }
} as const

export type Destination = keyof typeof DESTINATIONS

export interface StandIns {
  /** host name → 127.0.0.1 port, for the preload (DOCS_SAMPLE_ROUTES). */
  routes: Record<string, number>
  /** PEM of the certificate the TLS fronts present, for NODE_EXTRA_CA_CERTS. */
  caPem: string
  sinks: Record<Destination, Sink>
  close (): Promise<void>
}

export async function startStandIns (): Promise<StandIns> {
  const hosts = Object.values(DESTINATIONS).flatMap((destination) => destination.hosts)
  const pems = await generate([{ name: 'commonName', value: 'docs samples stand-in' }], {
    keySize: 2048,
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'subjectAltName', altNames: hosts.map((value) => ({ type: 2, value })) }
    ]
  })
  const routes: Record<string, number> = {}
  const sinks = {} as Record<Destination, Sink>
  const fronts: Server[] = []
  for (const [name, destination] of Object.entries(DESTINATIONS) as Array<[Destination, typeof DESTINATIONS[Destination]]>) {
    const sink = await startSink({ validate: destination.validate, policy: ok(destination.status) })
    sinks[name] = sink
    const front = createServer({ key: pems.private, cert: pems.cert }, (secure) => {
      const plain = connect(sink.port, '127.0.0.1')
      secure.pipe(plain).pipe(secure)
      secure.on('error', () => plain.destroy()).on('close', () => plain.destroy())
      plain.on('error', () => secure.destroy()).on('close', () => secure.destroy())
    })
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve))
    fronts.push(front)
    for (const host of destination.hosts) routes[host] = (front.address() as AddressInfo).port
  }
  return {
    routes,
    caPem: pems.cert,
    sinks,
    async close () {
      await Promise.all(Object.values(sinks).map((sink) => sink.close()))
      await Promise.all(fronts.map((front) => new Promise((resolve) => front.close(resolve))))
    }
  }
}
