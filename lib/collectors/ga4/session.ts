/** GA4's default session timeout: 30 minutes without an event ends a session. */
export const SESSION_TIMEOUT_MS = 30 * 60_000
/** Visitors whose session is remembered; beyond it the least recently seen is forgotten. */
export const MAX_TRACKED_SESSIONS = 10_000

export interface Session {
  id: number
  lastMs: number
}

/**
 * Session ids for visitors that have no `_ga_<stream>` cookie, kept per client id in memory.
 * Like gtag.js, a session id is the session's start in Unix seconds. Time is the events' own
 * timestamps, so the result does not depend on how late an event is processed.
 * Per process: two instances behind a load balancer each start their own session for a visitor,
 * unless the collector is given a shared store (`redisSessionStore`, see session-store.ts), which
 * applies these same rules on the server.
 */
export class SessionTracker {
  readonly #sessions = new Map<string, Session>()
  readonly #max: number
  readonly #timeoutMs: number
  /** Visitors forgotten to stay within `max`: each starts a new session at its next event. */
  evictions = 0

  constructor (max: number = MAX_TRACKED_SESSIONS, timeoutMs: number = SESSION_TIMEOUT_MS) {
    this.#max = max
    this.#timeoutMs = timeoutMs
  }

  get size (): number {
    return this.#sessions.size
  }

  /** The session id for `clientId` at `atMs`, starting a new session after `timeoutMs` of silence. */
  sessionId (clientId: string, atMs: number): number {
    const sessions = this.#sessions
    let session = sessions.get(clientId)
    if (session !== undefined) {
      // An event older than the last one (requests finish out of order) still belongs to the session.
      if (atMs - session.lastMs <= this.#timeoutMs) {
        if (atMs > session.lastMs) session.lastMs = atMs
      } else {
        session.id = sessionStart(atMs)
        session.lastMs = atMs
      }
      // Re-inserting keeps the Map in least-recently-seen order, so eviction takes the stalest.
      sessions.delete(clientId)
      sessions.set(clientId, session)
      return session.id
    }
    session = { id: sessionStart(atMs), lastMs: atMs }
    this.#insert(clientId, session)
    return session.id
  }

  /** The visitor's session as this process knows it, without touching its recency. */
  peek (clientId: string): Readonly<Session> | undefined {
    return this.#sessions.get(clientId)
  }

  /**
   * Takes in what the shared store answered, so that if the store fails the in-memory fallback
   * continues the visitor's session instead of starting a second one.
   */
  record (clientId: string, id: number, lastMs: number): void {
    const session = this.#sessions.get(clientId)
    if (session === undefined) {
      this.#insert(clientId, { id, lastMs })
      return
    }
    session.id = id
    if (lastMs > session.lastMs) session.lastMs = lastMs
    this.#sessions.delete(clientId)
    this.#sessions.set(clientId, session)
  }

  #insert (clientId: string, session: Session): void {
    const sessions = this.#sessions
    if (sessions.size >= this.#max) {
      const oldest = sessions.keys().next()
      if (oldest.done !== true) {
        sessions.delete(oldest.value)
        this.evictions++
      }
    }
    sessions.set(clientId, session)
  }
}

/** A new session's id: its first event's second. It cannot repeat the previous one, a timeout earlier at least. */
export function sessionStart (atMs: number): number {
  return Math.max(1, Math.floor(atMs / 1000))
}
