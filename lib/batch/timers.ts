/**
 * The engine's two wake-ups: the flush interval (one timer, re-armed with refresh(): no timer per
 * batch or event) and the next turn of the event loop (one setImmediate however many events
 * arrive until then). Unref'd, so analytics never keeps a process alive, except while `held`.
 */
export class EngineTimers {
  readonly #intervalMs: number
  readonly #onInterval: () => void
  readonly #onTurn: () => void
  #timer: NodeJS.Timeout | undefined = undefined
  #immediate: NodeJS.Immediate | undefined = undefined
  #held = false
  #ended = false

  constructor (intervalMs: number, onInterval: () => void, onTurn: () => void) {
    this.#intervalMs = intervalMs
    this.#onInterval = onInterval
    this.#onTurn = onTurn
  }

  /** (Re)starts the flush interval from now. */
  arm (): void {
    if (this.#ended) return
    if (this.#timer === undefined) {
      this.#timer = setTimeout(this.#onInterval, this.#intervalMs)
      if (!this.#held) this.#timer.unref()
    } else {
      this.#timer.refresh()
    }
  }

  /** Calls `onTurn` once on the next turn of the event loop. */
  nextTurn (): void {
    if (this.#immediate === undefined && !this.#ended) this.#immediate = setImmediate(this.#turn)
  }

  readonly #turn = (): void => {
    this.#immediate = undefined
    this.#onTurn()
  }

  /** Keeps the interval referenced (a flush or close is awaited) or not. */
  hold (held: boolean): void {
    this.#held = held
    if (this.#timer === undefined) return
    if (held) this.#timer.ref()
    else this.#timer.unref()
  }

  end (): void {
    this.#ended = true
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    if (this.#immediate !== undefined) clearImmediate(this.#immediate)
    this.#immediate = undefined
  }
}
