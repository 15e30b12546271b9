// Timing assertions that hold on a loaded machine.
//
// A timer never fires early, but on a busy machine (2 cores, the suite's own parallel files, other
// work) it and everything after it can run late: event-loop stalls of several hundred milliseconds
// were seen when the other core was saturated. So a test asserts
//   - a lower bound exactly (the code must not act before its deadline), and
//   - an upper bound of "the deadline + SCHEDULING_SLACK_MS", where the wrong behaviour being
//     guarded against (waiting for a hung destination, a 10 s timeout, a 60 s interval, a Retry-After
//     of an hour) is set up to take far longer than that, so the assertion can still fail;
// or it compares against a baseline measured in the same run, or checks an order of events instead
// of a duration.

/**
 * How late a deadline may be honoured on a loaded machine before a test calls it missed. Generous
 * on purpose: each test using it keeps the behaviour it guards against well beyond it.
 */
export const SCHEDULING_SLACK_MS = 1500

/** A budget for `ms` of promised work on a loaded machine: the promise plus the scheduling slack. */
export function loaded (ms: number): number {
  return ms + SCHEDULING_SLACK_MS
}

/**
 * Polls `predicate` every few milliseconds until it holds; throws after `timeoutMs`. For "it happens
 * soon" (a periodic flush, a write reaching the disk): faster than a fixed sleep on a quiet machine,
 * and not flaky on a loaded one. Bounded in time and in rounds.
 */
export async function waitUntil (predicate: () => boolean, what: string, timeoutMs = loaded(3000)): Promise<void> {
  const end = Date.now() + timeoutMs
  for (let round = 0; !predicate(); round++) {
    if (Date.now() > end || round > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
