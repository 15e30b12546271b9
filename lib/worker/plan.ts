import type { AnalyticsCollector } from '../collector.js'
import type { Logger } from '../log.js'
import { workerDescriptor } from './descriptor.js'
import { MAX_WORKER_COLLECTORS, WorkerHost } from './host.js'
import type { DeliveryMode } from './protocol.js'

export type { DeliveryMode }

/**
 * The collectors the fan-out calls: in worker mode every collector a worker can rebuild is replaced
 * by a stand-in for it in one shared worker; the others stay as they are, and each one that could
 * not move says why (once, at registration).
 */
export function planDelivery (collectors: readonly AnalyticsCollector[], mode: DeliveryMode, log: Logger): readonly AnalyticsCollector[] {
  if (mode === 'inline') return collectors
  const moved: Array<{ module: string, factory: string, options: unknown }> = []
  const names: string[] = []
  const at = new Map<AnalyticsCollector, number>()
  for (const collector of collectors) {
    const descriptor = workerDescriptor(collector)
    if (descriptor === undefined) continue
    if (!descriptor.portable) {
      log.info({ collector: collector.name, reason: descriptor.reason }, `analytics collector "${collector.name}" runs on the request thread: ${descriptor.reason}`)
      continue
    }
    if (moved.length === MAX_WORKER_COLLECTORS) {
      log.info({ collector: collector.name }, `analytics collector "${collector.name}" runs on the request thread: at most ${MAX_WORKER_COLLECTORS} collectors run in the worker`)
      continue
    }
    at.set(collector, moved.length)
    moved.push({ module: descriptor.module, factory: descriptor.factory, options: descriptor.options })
    names.push(collector.name)
  }
  if (moved.length === 0) return collectors
  const host = new WorkerHost(moved, names, log)
  // Loading the worker takes tens of milliseconds: overlap it with the rest of the app's boot.
  host.spawn()
  return collectors.map((collector) => {
    const index = at.get(collector)
    return index === undefined ? collector : host.collector(index, collector.requestHeaders)
  })
}
