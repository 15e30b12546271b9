// The few helpers every layer uses. This module imports nothing, so any module may import it
// without running back up the layers.

/** A function that does nothing: a listener or callback that must exist but has no work. */
export const noop = (): void => {}

/** The longest delay `setTimeout` honours: above 2^31 - 1 ms it fires at once. */
export const MAX_TIMER_MS = 2_147_483_647

/** The text of a thrown value for a log field or an error message: the message of an Error, else `String(value)`. */
export function errorText (error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * A pure function of a short string (to a string, or any value `V`), remembered: a Map emptied when it reaches `size` entries.
 * Hand-written rather than lru-cache (the user-agent cache's): for values that cost a few hundred
 * ns to compute, its recency bookkeeping costs a third of a hit (58 against 43 ns per lookup, 1e6
 * each), and a miss after a clear costs only one call. Keys longer than `maxKeyLength` are computed
 * every time, so the memory held stays bounded whatever visitors send.
 */
export class StringMemo<V = string> {
  readonly #compute: (key: string) => V
  readonly #size: number
  readonly #maxKeyLength: number
  readonly #values = new Map<string, V>()

  constructor (compute: (key: string) => V, size: number, maxKeyLength: number) {
    this.#compute = compute
    this.#size = size
    this.#maxKeyLength = maxKeyLength
  }

  get (key: string): V {
    if (key.length > this.#maxKeyLength) return this.#compute(key)
    let value = this.#values.get(key)
    if (value === undefined) {
      value = this.#compute(key)
      if (this.#values.size >= this.#size) this.#values.clear()
      this.#values.set(key, value)
    }
    return value
  }

  /** Entries held: at most `size`. */
  get size (): number {
    return this.#values.size
  }
}
