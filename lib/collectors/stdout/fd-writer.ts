import { closeSync, constants, fstatSync, mkdirSync, openSync, write } from 'node:fs'
import { Socket } from 'node:net'
import { dirname } from 'node:path'
import { isMainThread } from 'node:worker_threads'
import type { DeliveryReport } from '../../collector.js'
import { onAbort } from '../../batch/delivery.js'
import { Ledger, type LedgerObserver } from '../../batch/ledger.js'
import { Queue } from '../../batch/queue.js'
import type { RateLimitedLog } from '../../log.js'
import { errorText } from '../../util.js'

/** One write() call takes at most this many UTF-16 units of lines (a longer line is written alone): a pipe's capacity. */
const MAX_WRITE_UNITS = 64 * 1024
/**
 * To a regular file, which takes a whole write at once, writes are larger: with one write in flight
 * and its callback a turn of the event loop away, 64 K units per write fell behind a steady stream
 * of lines, and the lines kept waiting outlived the young generation: a quarter of the collector's
 * CPU went to the garbage collector (bench/delivery-floor.js).
 */
const MAX_FILE_WRITE_UNITS = 1024 * 1024
/** A destination that answers EAGAIN (a non-blocking pipe nobody reads) is tried again after 1, 2, 4 … ms, up to this. */
const MAX_RETRY_DELAY_MS = 250
/**
 * Errors after which no write can succeed: the reader is gone (EPIPE), the descriptor is not open
 * for writing (EBADF), or it was never a writable target (EINVAL, EISDIR, ENXIO). Every later line
 * is counted `failed` without a system call. Others (ENOSPC, EIO, EDQUOT, EFBIG) fail the lines of
 * that write only: a disk can be freed.
 */
const PERMANENT = new Set(['EPIPE', 'EBADF', 'EINVAL', 'EISDIR', 'ENXIO', 'ECONNRESET', 'ENOTCONN', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END'])

/** The descriptor lines go to, whether the writer opened it (and so closes it), and the units one write takes. */
interface Target {
  fd: number
  owned: boolean
  maxWriteUnits: number
}

function fdTarget (fd: number, owned: boolean, file = fstatSync(fd).isFile()): Target {
  return { fd, owned, maxWriteUnits: file ? MAX_FILE_WRITE_UNITS : MAX_WRITE_UNITS }
}

/**
 * stdout or stderr on a socket (a child process's stdio under a supervisor, journald): its file
 * description is made non-blocking, as libuv makes it for process.stdout, so a reader that stalls
 * answers EAGAIN and no thread-pool thread blocks in write() (process.exit joins the pool: it would
 * hang) and no pending libuv write keeps the process alive. A socket cannot be reopened through /proc
 * as a pipe can, so the flag is set on the shared description: on the main thread by creating
 * process.stdout/stderr (Node's own handle; a second one would share its epoll slot), in a worker by
 * a socket handle opened and closed at once (libuv never closes descriptors 0–2).
 */
function makeNonBlocking (fd: 1 | 2): void {
  if (isMainThread) {
    void (fd === 1 ? process.stdout : process.stderr).writable
  } else {
    new Socket({ fd, readable: false, writable: true }).destroy()
  }
}

export interface FdWriterOptions {
  /** A file descriptor the app owns, or a path the writer opens (and closes). */
  destination: number | string
  /** Lines wait until this many units are buffered (or the interval passes, or a flush asks). */
  bufferBytes: number
  flushIntervalMs: number
  /** Units of lines waiting; a line that would pass it is dropped (`queueFull`). */
  maxQueueBytes: number
}

interface Chunk {
  lines: string[]
  buffer: Buffer
  /** Bytes of `buffer` the destination accepted. */
  written: number
  /** Lines of the chunk counted already (delivered after a partial write). */
  settled: number
  /** Cumulative UTF-8 end offset of each line: computed only after a partial write. */
  ends: number[] | undefined
}

function errorCode (error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : 'EIO'
}

/**
 * Writes lines to a file descriptor with `fs.write`, one write in flight, and accounts for each
 * line: delivered only once the destination accepted all its bytes; `failed` when a write fails
 * (EPIPE, ENOSPC, EBADF…), logged once per window and never thrown or emitted; `queueFull` past
 * `maxQueueBytes`; `shutdown` when the close deadline comes first. No exit hook and no synchronous
 * flush: a destination that cannot take the lines never holds the process.
 *
 * Hand-written rather than on sonic-boom (pino.destination): sonic-boom emits a write failure as an
 * 'error' event (unhandled, it kills the process; pino's handler turns EPIPE into a silent no-op),
 * keeps a failed chunk and retries it forever, buffers without bound, and its flushSync in pino's
 * exit hook spins on /dev/full. None of that is configurable, and none of its writes say which lines
 * they carried.
 */
export class FdWriter {
  readonly #options: FdWriterOptions
  readonly #log: () => RateLimitedLog
  readonly #ledger = new Ledger()
  readonly #queue = new Queue<string>()
  #target: Target | undefined = undefined
  #chunk: Chunk | undefined = undefined
  /** The error code after which nothing can be written. */
  #broken: string | undefined = undefined
  /** Lines ever queued, and lines settled after queueing (delivered, failed or shutdown). */
  #seq = 0
  #done = 0
  readonly #waiters: Array<{ target: number, done: () => void }> = []
  /** The interval passed (or a flush or close waits): write what is buffered, however little. */
  #due = false
  #closed = false
  #interval: NodeJS.Timeout | undefined = undefined
  /** The interval is counting: a line queued meanwhile must not push it back (it bounds the oldest line's wait). */
  #intervalArmed = false
  /** A write is with the kernel (between `fs.write` and its callback): its descriptor must stay open. */
  #inFlight = false
  /** Set by a close that found a write in flight: that write's callback closes the descriptor. */
  #closeWhenWritten = false
  #retry: NodeJS.Timeout | undefined = undefined
  #retryDelay = 1
  #immediate: NodeJS.Immediate | undefined = undefined

  constructor (options: FdWriterOptions, log: () => RateLimitedLog) {
    this.#options = options
    this.#log = log
  }

  /**
   * Opens the destination (at the collector's start, so a factory call in worker mode opens nothing
   * on the request thread); `onStatsChange` is told of every change to the figures (CollectorContext).
   */
  open (onStatsChange?: LedgerObserver): void {
    if (typeof onStatsChange === 'function') this.#ledger.observer = onStatsChange
    if (this.#target !== undefined || this.#broken !== undefined) return
    const destination = this.#options.destination
    try {
      if (typeof destination === 'string') {
        mkdirSync(dirname(destination), { recursive: true })
        // O_NONBLOCK: a FIFO whose reader stalls answers EAGAIN instead of holding a thread-pool
        // thread (which Node's exit then waits for); it changes nothing for a regular file.
        this.#target = fdTarget(openSync(destination, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NONBLOCK, 0o666), true)
      } else {
        this.#target = this.#descriptorTarget(destination)
      }
    } catch (error) {
      this.#fail(error, 'open')
    }
    this.#pump()
  }

  /**
   * A pipe given by number is reopened through /proc as our own non-blocking file description
   * (Linux): its flags are ours alone, so the app's own writes to the descriptor keep theirs. A
   * socket on stdout/stderr is made non-blocking. Anything else (a file, a terminal, /dev/full, a
   * socket on another descriptor) is written as it is.
   */
  #descriptorTarget (fd: number): Target {
    const stat = fstatSync(fd)
    if (stat.isFIFO() && process.platform === 'linux') {
      try {
        return fdTarget(openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY | constants.O_NONBLOCK), true, false)
      } catch {}
    }
    if (stat.isSocket() && (fd === 1 || fd === 2)) makeNonBlocking(fd)
    return fdTarget(fd, false, stat.isFile())
  }

  write (line: string): void {
    if (this.#closed) {
      this.#ledger.refuse('closed')
      return
    }
    if (this.#broken !== undefined) {
      this.#ledger.refuse('failed')
      return
    }
    const queue = this.#queue
    if (queue.bytes + line.length > this.#options.maxQueueBytes) {
      this.#ledger.refuse('queueFull')
      this.#log().warn('queueFull', { maxQueueBytes: this.#options.maxQueueBytes }, 'analytics stdout destination is behind: lines waiting for it reached maxQueueBytes; dropping lines')
      return
    }
    this.#ledger.receive()
    queue.push(line, line.length)
    this.#seq++
    if (this.#chunk !== undefined) return
    if (queue.bytes >= this.#options.bufferBytes) {
      // One write per turn of the event loop, however many lines arrive in it.
      if (this.#immediate === undefined) this.#immediate = setImmediate(this.#onImmediate)
    } else {
      this.#armInterval()
    }
  }

  /** Resolves once every line written before the call is delivered or dropped, or at `signal`. */
  flush (signal?: AbortSignal): Promise<void> {
    const target = this.#seq
    if (this.#done >= target || signal?.aborted === true) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const waiter = {
        target,
        done: () => {
          stop()
          const index = this.#waiters.indexOf(waiter)
          if (index !== -1) this.#waiters.splice(index, 1)
          resolve()
        }
      }
      const stop = onAbort(signal, waiter.done)
      this.#waiters.push(waiter)
      this.#due = true
      this.#pump()
    })
  }

  /** Writes what is queued until `signal`; then counts the rest `shutdown` and closes a descriptor it opened. */
  async close (signal?: AbortSignal): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    // Never started (its start failed or timed out): nothing can be written, nothing to wait for.
    if (this.#target !== undefined) await this.flush(signal)
    if (this.#queue.length > 0 || this.#chunk !== undefined) {
      const count = this.#ledger.abandon(this.#queue.length)
      this.#done += count
      this.#queue.clear()
      this.#log().warn('shutdown', { lines: count }, 'analytics stdout destination did not take every line before the shutdown deadline (counted shutdown)')
    }
    this.#wake()
    this.#chunk = undefined
    clearTimeout(this.#interval)
    clearTimeout(this.#retry)
    if (this.#immediate !== undefined) clearImmediate(this.#immediate)
    // A write still in progress keeps its descriptor until its callback: closing it under the write
    // could let the number be reused and the late bytes land elsewhere.
    if (this.#target?.owned === true) {
      if (this.#inFlight) this.#closeWhenWritten = true
      else this.#closeOwned(this.#target.fd)
    }
    if (!this.#closeWhenWritten) this.#target = undefined
  }

  #closeOwned (fd: number): void {
    this.#target = undefined
    try { closeSync(fd) } catch {}
  }

  stats (): DeliveryReport {
    return this.#ledger.report(this.#queue.length)
  }

  readonly #onImmediate = (): void => {
    this.#immediate = undefined
    this.#pump()
  }

  readonly #onInterval = (): void => {
    this.#intervalArmed = false
    this.#due = true
    this.#pump()
  }

  /** Starts the interval unless it is already counting: a line waits at most `flushIntervalMs`. */
  #armInterval (): void {
    if (this.#intervalArmed) return
    this.#intervalArmed = true
    if (this.#interval === undefined) {
      this.#interval = setTimeout(this.#onInterval, this.#options.flushIntervalMs)
      // Like sonic-boom's periodic flush: it never keeps the app alive (flush and close are awaited).
      this.#interval.unref()
    } else {
      this.#interval.refresh()
    }
  }

  /** Starts the next write when none is in flight and enough is buffered (or it is due). */
  #pump (): void {
    const queue = this.#queue
    if (this.#chunk !== undefined || this.#target === undefined || queue.length === 0) return
    if (queue.bytes < this.#options.bufferBytes && !this.#due && this.#waiters.length === 0 && !this.#closed) {
      this.#armInterval()
      return
    }
    const lines = queue.take(Number.MAX_SAFE_INTEGER, (this.#target as Target).maxWriteUnits)
    this.#ledger.take(lines.length)
    // Lines are held as strings (one byte per unit for ASCII in V8) until they are written: one
    // Buffer per write, not per line.
    this.#chunk = { lines, buffer: Buffer.from(lines.join(''), 'utf8'), written: 0, settled: 0, ends: undefined }
    this.#writeChunk()
  }

  #writeChunk (): void {
    const chunk = this.#chunk as Chunk
    this.#inFlight = true
    write((this.#target as Target).fd, chunk.buffer, chunk.written, chunk.buffer.length - chunk.written, null, (error, bytes) => this.#written(chunk, error, bytes))
  }

  #written (chunk: Chunk, error: NodeJS.ErrnoException | null, bytes: number): void {
    this.#inFlight = false
    if (this.#closeWhenWritten) {
      this.#closeWhenWritten = false
      this.#closeOwned((this.#target as Target).fd)
    }
    // Counted `shutdown` at the close deadline already.
    if (chunk !== this.#chunk) return
    if (error !== null) {
      const code = errorCode(error)
      // A close waits through these retries until its deadline counts the lines `shutdown`.
      if (code === 'EAGAIN') {
        this.#retry = setTimeout(() => this.#writeChunk(), this.#retryDelay)
        this.#retry.unref()
        this.#retryDelay = Math.min(this.#retryDelay * 2, MAX_RETRY_DELAY_MS)
        return
      }
      this.#settle(chunk, 0, chunk.lines.length - chunk.settled, PERMANENT.has(code) ? '' : code)
      this.#chunk = undefined
      this.#fail(error, 'write')
      this.#next()
      return
    }
    this.#retryDelay = 1
    chunk.written += bytes
    if (chunk.written < chunk.buffer.length) {
      // A partial write (a pipe with room for part of it): count the lines it completed.
      const ends = chunk.ends ?? (chunk.ends = lineEnds(chunk.lines))
      let complete = chunk.settled
      while (complete < ends.length && ends[complete] <= chunk.written) complete++
      this.#settle(chunk, complete - chunk.settled, 0, '')
      this.#writeChunk()
      return
    }
    this.#settle(chunk, chunk.lines.length - chunk.settled, 0, '')
    this.#chunk = undefined
    this.#next()
  }

  #settle (chunk: Chunk, delivered: number, failed: number, code: string): void {
    chunk.settled += delivered + failed
    this.#done += delivered + failed
    this.#ledger.settle(delivered, 'failed', failed)
    if (failed > 0 && code !== '') {
      this.#log().error(`write-${code}`, { code, lines: failed }, 'analytics stdout destination refused a write; lines dropped (counted failed)')
    }
  }

  /** After a write: the next one, or wait for more lines; and wake the flushes now satisfied. */
  #next (): void {
    if (this.#queue.length === 0) this.#due = false
    this.#wake()
    this.#pump()
  }

  /** Resolves the flushes whose lines are all delivered or dropped. */
  #wake (): void {
    for (const waiter of [...this.#waiters]) if (this.#done >= waiter.target) waiter.done()
  }

  /** A permanent error: every line queued now and later is `failed`. */
  #fail (error: unknown, during: string): void {
    const code = errorCode(error)
    if (!PERMANENT.has(code) && during === 'write') return
    this.#broken = code
    const queued = this.#queue.length
    if (queued > 0) {
      this.#ledger.take(queued)
      this.#ledger.settle(0, 'failed', queued)
      this.#done += queued
      this.#queue.clear()
    }
    this.#log().error(`${during}-${code}`, { code, error: errorText(error) }, `analytics stdout destination cannot be written (${code}); lines are counted failed from now on`)
    this.#wake()
  }
}

/** The UTF-8 end offset of each line in their concatenation. */
function lineEnds (lines: readonly string[]): number[] {
  const ends: number[] = []
  let at = 0
  for (const line of lines) {
    at += Buffer.byteLength(line, 'utf8')
    ends.push(at)
  }
  return ends
}
