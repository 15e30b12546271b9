import type { AnalyticsCollector } from '../collector.js'
import type { Logger } from '../log.js'
import type { PipelineSettings, RemotePipeline } from '../pipeline/index.js'
import { encodeCapture, encodeTracked } from './capture-codec.js'
import { workerDescriptor } from './descriptor.js'
import { MAX_WORKER_COLLECTORS, WorkerHost } from './host.js'
import type { DeliveryMode, PortablePipelineSettings } from './protocol.js'

export type { DeliveryMode }

/** What the plugin runs: the collectors the fan-out calls, and where the pipeline runs when not on the request thread. */
export interface DeliveryPlan {
  collectors: readonly AnalyticsCollector[]
  /** Set when every collector moved to the worker and the pipeline could follow them there. */
  pipeline: RemotePipeline | undefined
}

/** The settings as they cross to the worker: the visit clock (a function) is the worker's own `Date.now`. */
function portable (settings: PipelineSettings): PortablePipelineSettings {
  const { visits } = settings
  return { ...settings, visits: visits === false ? false : { timeoutMs: visits.timeoutMs } }
}

/**
 * The collectors the fan-out calls: in worker mode every collector a worker can rebuild is replaced
 * by a stand-in for it in one shared worker; the others stay as they are, and each one that could
 * not move says why (once, at registration). When every collector moved and `pipeline` is given
 * (the app's options are plain data where the pipeline reads them, and no `beforeSend`), the
 * pipeline moves too: the request thread then only captures.
 */
export function planDelivery (collectors: readonly AnalyticsCollector[], mode: DeliveryMode, log: Logger, pipeline?: PipelineSettings): DeliveryPlan {
  if (mode === 'inline') return { collectors, pipeline: undefined }
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
  if (moved.length === 0) return { collectors, pipeline: undefined }
  const remote = moved.length === collectors.length ? pipeline : undefined
  const host = new WorkerHost(moved, names, log, remote === undefined ? undefined : portable(remote))
  // Loading the worker takes tens of milliseconds: overlap it with the rest of the app's boot.
  host.spawn()
  const standIns = collectors.map((collector) => {
    const index = at.get(collector)
    return index === undefined ? collector : host.collector(index, collector.requestHeaders, collector.wants?.bind(collector))
  })
  if (remote === undefined) return { collectors: standIns, pipeline: undefined }
  return {
    collectors: standIns,
    pipeline: {
      automatic: (capture) => host.capture(encodeCapture(capture)),
      tracked: (event, facts, consent) => host.capture(encodeTracked(event, facts, consent)),
      figures: () => host.pipelineFigures(),
      crawlers: () => host.crawlerFigures(),
      acceptedElsewhere: (collector) => {
        const index = standIns.indexOf(collector as AnalyticsCollector)
        return index === -1 ? 0 : host.acceptedInWorker(index)
      }
    }
  }
}
