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
