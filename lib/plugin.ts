import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { unfinishedStatus } from './abandon.js'
import { FST_ANALYTICS_ALREADY_REGISTERED, FST_ANALYTICS_INVALID_OPTION } from './errors.js'
import type { AnalyticsEventInput } from './event.js'
import { analyticsStorage, CONTEXT_KEY, unattachedSinks, useAppRequestContext } from './helpers.js'
import type { Logger } from './log.js'
import { normalizeOptions, routeDescriptor, type AnalyticsOptions, type NormalizedOptions, type RouteAnalyticsConfig } from './options.js'
import type { PipelineSettings } from './pipeline/index.js'
import { checkCountryDatabase } from './geo/country.js'
import { INERT_REQUEST_ANALYTICS, RequestAnalytics, type RequestAnalyticsApi } from './request-analytics.js'
import { childLoggerOptions, emptyEventCounters, Tracker, type AnalyticsStats } from './tracker.js'
import { rootInstance } from './scope.js'
import { VISITS_OFF } from './visits/index.js'

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
    /**
     * This request's analytics: revenue, properties, promotion to a custom event, explicit events.
     * Always callable, in every scope of the app: where the plugin's onRequest hook has not run (an
     * earlier hook, a scope outside the plugin's), calls that shape the automatic event are counted
     * in `stats().events.unattached` and logged once, and `track()` still tracks.
     */
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

/** Where onRequest leaves the reply on its response, for the one shared 'close' listener. */
const kReply = Symbol('fastify-analytics.reply')
/** This request's analytics state on the request: behind the `analytics` getter. */
const kState = Symbol('fastify-analytics.state')
/**
 * The plugin's onRequest saw the request and nothing has used `request.analytics` yet: no object is
 * made for a request until something needs one (most requests never do).
 */
const ATTACHED = 1
/** The automatic event was built (or skipped) and `request.analytics` was never used. */
const FINISHED = 2
/** `null`: our onRequest never ran for it (an earlier hook replied, or another scope). */
type StateSlot = RequestAnalytics | typeof ATTACHED | typeof FINISHED | null
type RequestWithState = FastifyRequest & { [kState]?: StateSlot }
type ResponseWithReply = FastifyReply['raw'] & { [kReply]?: FastifyReply }

const INERT_INSTANCE: AnalyticsInstanceApi = Object.freeze({
  track () {},
  async flush () {},
  stats: () => ({ events: emptyEventCounters(), collectors: {}, visits: { ...VISITS_OFF } })
})

async function fastifyAnalytics (fastify: FastifyInstance, rawOptions: AnalyticsOptions): Promise<void> {
  const options = normalizeOptions(rawOptions)
  // The decorators go on the app's root, so `request.analytics` and `app.analytics` exist in every
  // scope (an autoloaded file without fastify-plugin registers the plugin in a child scope, and its
  // siblings' handlers crashed on an undefined `request.analytics`). The hooks stay in this scope.
  const root = rootInstance(fastify)
  if (root.hasDecorator('analytics') || root.hasRequestDecorator('analytics')) {
    // A second registration anywhere in the app would emit a second event per request, or none in
    // some scopes: refuse it by name rather than with Fastify's generic decorator error.
    throw new FST_ANALYTICS_ALREADY_REGISTERED()
  }

  // Validate route configs as routes are declared, so a typo fails at startup, not silently.
  fastify.addHook('onRoute', function analyticsCheckRoute (route) {
    routeDescriptor((route.config as { analytics?: unknown } | undefined)?.analytics, `${String(route.method)} ${route.url}`)
  })

  if (options.collectors.length === 0) {
    // Inert: no hook on the request path, but the API stays callable.
    root.decorateRequest('analytics', { getter: () => INERT_REQUEST_ANALYTICS })
    root.decorate('analytics', INERT_INSTANCE)
    return
  }

  if (options.logLevel !== undefined) {
    try {
      fastify.log.child({}, { level: options.logLevel })
    } catch (error) {
      // pino names the problem ("unknown level"): say which option caused it.
      throw new FST_ANALYTICS_INVALID_OPTION(`logLevel: ${(error as Error).message}`)
    }
  }
  const log = fastify.log as Logger
  // The worker's modules (its host, codecs, snapshot) load only for worker delivery: an inline app's
  // cold start does not pay for them.
  const plan = options.delivery === 'inline'
    ? { collectors: options.collectors, pipeline: undefined }
    : (await import('./worker/plan.js')).planDelivery(options.collectors, options.delivery, log.child({ plugin: 'analytics' }, childLoggerOptions(options)) as Logger, portablePipeline(options))
  const tracker = new Tracker({ ...options, collectors: plan.collectors }, log, plan.pipeline)
  const { shutdownTimeoutMs } = options
  // Reuse the app's @fastify/request-context when it was registered first (one AsyncLocalStorage
  // instead of two); otherwise the plugin's own store (see analyticsStorage for why not register it).
  const appContext = fastify.hasPlugin('@fastify/request-context')
  if (appContext) await useAppRequestContext()
  const ownContext = !appContext && options.requestContext

  // Declared where the hooks run (so those requests have the slot from birth), read through a getter
  // on the root: a request no onRequest of ours saw gets a detached object that counts, not a crash.
  fastify.decorateRequest(kState, null)
  root.decorateRequest('analytics', {
    getter (this: RequestWithState): RequestAnalyticsApi {
      const slot = this[kState]
      if (typeof slot === 'object' && slot !== null) return slot
      // A request no onRequest of ours saw gets a detached object each time (it is not ours to
      // keep state on); a finished one keeps its detached object, so late calls count once each.
      if (slot === null || slot === undefined) return new RequestAnalytics(tracker, this, false)
      const made = new RequestAnalytics(tracker, this, slot === ATTACHED)
      this[kState] = made
      return made
    }
  })

  /** The request's automatic event, from onResponse or from an abandoned response's 'close'; at most one. */
  function finish (request: RequestWithState, reply: FastifyReply, unfinished: number): void {
    const slot = request[kState]
    if (slot === FINISHED) return
    if (slot === ATTACHED) {
      request[kState] = FINISHED
      tracker.automatic(request, reply, null, unfinished)
      return
    }
    // A RequestAnalytics says itself whether its event is done; null: an event nobody else will build.
    tracker.automatic(request, reply, slot ?? null, unfinished)
  }

  // One function for every response (EventEmitter calls it with the response as `this`): no closure per request.
  function onResponseClose (this: ResponseWithReply): void {
    const reply = this[kReply]
    if (reply === undefined) return
    // A completed response closes too, after onResponse: only one that never finished is abandoned.
    const unfinished = unfinishedStatus(this)
    if (unfinished !== 0) finish(reply.request as RequestWithState, reply, unfinished)
  }
  root.decorate('analytics', {
    track (event: AnalyticsEventInput) { tracker.track(event, undefined) },
    flush (flushOptions?: { timeoutMs?: number }) { return tracker.flush(flushOptions?.timeoutMs ?? shutdownTimeoutMs) },
    stats () { return tracker.stats() }
  } satisfies AnalyticsInstanceApi)

  fastify.addHook('onRequest', function analyticsOnRequest (request: FastifyRequest, reply: FastifyReply, done: () => void) {
    ;(request as RequestWithState)[kState] = ATTACHED
    // Fastify's onRequestAbort misses a client that leaves after sending its whole body (measured on
    // Fastify 5.12 / Node 20: neither onRequestAbort nor onResponse runs). The response's 'close'
    // event sees every abandonment; onResponse runs before it for completed requests.
    ;(reply.raw as ResponseWithReply)[kReply] = reply
    reply.raw.on('close', onResponseClose)
    if (ownContext) {
      analyticsStorage.run(request, done)
      return
    }
    // The request goes into the app's request context so the module helpers find it from any async depth.
    if (appContext) {
      const store = request.requestContext.getStore() as Record<string, unknown> | undefined
      if (store !== undefined) store[CONTEXT_KEY] = request
    }
    done()
  })

  if (ownContext) {
    // Body parsing ends in the request stream's 'end' event, outside the onRequest run: preValidation,
    // preHandler and the handler need the store entered again (what @fastify/request-context does too).
    fastify.addHook('preValidation', function analyticsEnterContext (request: FastifyRequest, _reply: FastifyReply, done: () => void) {
      // Set by our onRequest, which runs before any preValidation of a request in this scope.
      analyticsStorage.run(request, done)
    })
  }

  fastify.addHook('onResponse', function analyticsOnResponse (request: FastifyRequest, reply: FastifyReply, done: () => void) {
    // On HTTP/2 a stream the client resets also lands here (the compat response emits 'finish'):
    // only a response our side ended is complete.
    finish(request as RequestWithState, reply, reply.raw.writableEnded ? 0 : unfinishedStatus(reply.raw))
    done()
  })

  unattachedSinks.add(tracker)
  fastify.addHook('onReady', async function analyticsOnReady () {
    await tracker.start(options.startTimeoutMs)
  })

  fastify.addHook('onClose', async function analyticsOnClose () {
    unattachedSinks.delete(tracker)
    await tracker.close(shutdownTimeoutMs)
  })
}

/**
 * The pipeline's settings when it can run in the delivery worker: not with `beforeSend` (it needs the
 * built event on the request thread, synchronously), a shared or custom visit store (a connection of
 * the app's), or a test clock. A user's country database is checked here, at registration, as inline.
 */
function portablePipeline (options: NormalizedOptions): PipelineSettings | undefined {
  if (options.delivery !== 'worker' || options.beforeSend !== undefined) return undefined
  const { visits, geo } = options
  if (visits !== false && (visits.store !== undefined || visits.clock !== Date.now)) return undefined
  if (geo !== false && geo.database !== undefined) checkCountryDatabase(geo.database)
  return { bots: options.bots, privacy: options.privacy, visits, geo }
}

export const analytics = fp(fastifyAnalytics, {
  fastify: '5.x',
  name: 'fastify-analytics'
})
