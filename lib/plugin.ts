import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { fastifyRequestContext } from '@fastify/request-context'
import { unfinishedStatus } from './abandon.js'
import type { AnalyticsEventInput } from './event.js'
import { CONTEXT_KEY } from './helpers.js'
import type { Logger } from './log.js'
import { normalizeOptions, routeDescriptor, type AnalyticsOptions, type RouteAnalyticsConfig } from './options.js'
import { INERT_REQUEST_ANALYTICS, RequestAnalytics, type RequestAnalyticsApi } from './request-analytics.js'
import { emptyEventCounters, Tracker, type AnalyticsStats } from './tracker.js'

/** `app.analytics`. */
export interface AnalyticsInstanceApi {
  /** Tracks an event outside any request (jobs, queues): no request enrichment, timestamp now. */
  track (event: AnalyticsEventInput): void
  /** Asks every collector to deliver what it holds; resolves by the deadline (default `shutdownTimeoutMs`). */
  flush (options?: { timeoutMs?: number }): Promise<void>
  /** Per-collector delivery figures and event-level counters. */
  stats (): AnalyticsStats
}

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's analytics: revenue, properties, promotion to a custom event, explicit events. */
    analytics: RequestAnalyticsApi
  }
  interface FastifyInstance {
    analytics: AnalyticsInstanceApi
  }
  interface FastifyContextConfig {
    /** `false`: no automatic event; `{ type: 'pageview' }`; `{ action: 'name' }`. */
    analytics?: RouteAnalyticsConfig
  }
}

/** Where onRequest leaves the request's state on its response, for the one shared 'close' listener. */
const kRequestState = Symbol('fastify-analytics.requestState')
type ResponseWithState = FastifyReply['raw'] & { [kRequestState]?: RequestAnalytics }

// One function for every response (EventEmitter calls it with the response as `this`): no closure per request.
function onResponseClose (this: ResponseWithState): void {
  this[kRequestState]?.responseClosed()
}

const INERT_INSTANCE: AnalyticsInstanceApi = Object.freeze({
  track () {},
  async flush () {},
  stats: () => ({ events: emptyEventCounters(), collectors: {} })
})

async function fastifyAnalytics (fastify: FastifyInstance, rawOptions: AnalyticsOptions): Promise<void> {
  const options = normalizeOptions(rawOptions)

  // Validate route configs as routes are declared, so a typo fails at startup, not silently.
  fastify.addHook('onRoute', function analyticsCheckRoute (route) {
    routeDescriptor((route.config as { analytics?: unknown } | undefined)?.analytics, `${String(route.method)} ${route.url}`)
  })

  if (options.collectors.length === 0) {
    // Inert: no hook on the request path, but the API stays callable.
    fastify.decorateRequest('analytics', { getter: () => INERT_REQUEST_ANALYTICS })
    fastify.decorate('analytics', INERT_INSTANCE)
    return
  }

  const hasContext = fastify.hasPlugin('@fastify/request-context')
  if (!hasContext && options.requestContext) {
    await fastify.register(fastifyRequestContext)
  }
  const withContext = hasContext || options.requestContext

  const tracker = new Tracker(options, fastify.log as Logger)
  const { shutdownTimeoutMs } = options

  // null, then a fresh object per request in onRequest: an object here would be shared by every request.
  fastify.decorateRequest('analytics', null as unknown as RequestAnalyticsApi)
  fastify.decorate('analytics', {
    track (event: AnalyticsEventInput) { tracker.track(event, undefined) },
    flush (flushOptions?: { timeoutMs?: number }) { return tracker.flush(flushOptions?.timeoutMs ?? shutdownTimeoutMs) },
    stats () { return tracker.stats() }
  } satisfies AnalyticsInstanceApi)

  fastify.addHook('onRequest', function analyticsOnRequest (request: FastifyRequest, reply: FastifyReply, done: () => void) {
    const state = new RequestAnalytics(tracker, request, reply)
    request.analytics = state
    // Snapshot into the request context so the module helpers find it from any async depth.
    if (withContext) {
      const store = request.requestContext.getStore() as Record<string, unknown> | undefined
      if (store !== undefined) store[CONTEXT_KEY] = state
    }
    // Fastify's onRequestAbort misses a client that leaves after sending its whole body (measured on
    // Fastify 5.12 / Node 20: neither onRequestAbort nor onResponse runs). The response's 'close'
    // event sees every abandonment; onResponse runs before it for completed requests.
    ;(reply.raw as ResponseWithState)[kRequestState] = state
    reply.raw.on('close', onResponseClose)
    done()
  })

  fastify.addHook('onResponse', function analyticsOnResponse (request: FastifyRequest, reply: FastifyReply, done: () => void) {
    // On HTTP/2 a stream the client resets also lands here (the compat response emits 'finish'):
    // only a response our side ended is complete.
    const unfinished = reply.raw.writableEnded ? 0 : unfinishedStatus(reply.raw)
    tracker.automatic(request, reply, request.analytics as RequestAnalytics | null, unfinished)
    done()
  })

  fastify.addHook('onReady', async function analyticsOnReady () {
    await tracker.start(options.startTimeoutMs)
  })

  fastify.addHook('onClose', async function analyticsOnClose () {
    await tracker.close(shutdownTimeoutMs)
  })
}

export const analytics = fp(fastifyAnalytics, {
  fastify: '5.x',
  name: 'fastify-analytics'
})
