import type { AnalyticsCollector } from '../collector.js'

/**
 * How a worker thread rebuilds a collector: the module to import, the factory it exports, and the
 * options the factory was given. Only plain data crosses a thread, so a collector whose options hold
 * a function or a class instance (an undici `dispatcher`, a stream, a `clientId` callback) gets a
 * reason instead and keeps running on the request thread.
 */
export type WorkerDescriptor =
  | { portable: true, module: string, factory: string, options: unknown }
  | { portable: false, reason: string }

// A WeakMap rather than a property: the options may hold secrets (an API secret, a signing key),
// and a property would show in util.inspect or be copied by a spread of the collector.
const descriptors = new WeakMap<object, WorkerDescriptor>()

// Options are small trees; deeper than this is not an options object.
const MAX_DEPTH = 8

/** The path of the first value structured clone would refuse or change, or undefined when all is plain data. */
function firstNonPortable (value: unknown, path: string, depth: number): string | undefined {
  switch (typeof value) {
    case 'string': case 'number': case 'boolean': case 'bigint': case 'undefined': return undefined
    case 'object': break
    default: return path
  }
  if (value === null) return undefined
  if (depth > MAX_DEPTH) return path
  const proto: unknown = Object.getPrototypeOf(value)
  // A class instance clones as a plain object that has lost its methods: a Pool or a stream would
  // arrive in the worker as dead data, so only arrays and plain objects count as portable.
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return path
  for (const key of Object.keys(value)) {
    const found = firstNonPortable((value as Record<string, unknown>)[key], path === '' ? key : `${path}.${key}`, depth + 1)
    if (found !== undefined) return found
  }
  return undefined
}

/**
 * Records how a worker can rebuild `collector` (`module`: the factory's module relative to lib/, as
 * `'collectors/ga4.js'`, or a file URL for a test's own collector)
 * and returns the collector. Used by the built-in collectors' factories.
 */
export function describeForWorker<C extends AnalyticsCollector> (collector: C, module: string, factory: string, options: unknown): C {
  let offending: string | undefined
  try {
    offending = firstNonPortable(options, '', 0)
  } catch {
    offending = 'options' // a getter threw: whatever it is, it is not plain data
  }
  descriptors.set(collector, offending === undefined
    ? { portable: true, module, factory, options: structuredClone(options) }
    : { portable: false, reason: `its option "${offending}" is not plain data and cannot cross to a worker thread` })
  return collector
}

/** How a worker can rebuild this collector; undefined for collectors that were not built by a described factory (custom ones). */
export function workerDescriptor (collector: AnalyticsCollector): WorkerDescriptor | undefined {
  return descriptors.get(collector)
}
