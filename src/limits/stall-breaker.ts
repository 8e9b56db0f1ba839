/**
 * Stops an isolate from waiting on a stalled limits store. A store that fails fast (refuses the
 * connection, answers an error) costs nothing to ask; one that stalls (a paused primary, a network
 * partition) holds every request for the whole timeout, and the requests that pile up meanwhile
 * hold their memory. After `OPEN_AFTER` round trips in a row end in a timeout, round trips are
 * refused at once for `OPEN_MS` (the failure policy then applies without the wait); after that one
 * round trip goes out as a probe while the rest are still refused, and its answer closes the
 * breaker (any answer, an error included: the store is reachable) or opens it again (a timeout).
 * Time is the runtime's clock, not the gate's (a test's fixed clock would never reopen it).
 * @example if (!breaker.allows()) return refuseAll(); breaker.ended(error)
 */
export class StallBreaker {
  private timeoutsInARow = 0;
  private openUntil = 0;
  private probing = false;

  constructor(private readonly now: () => number = Date.now) {}

  /** Whether a round trip may go out now (when half-open, this one is the probe). */
  allows(): boolean {
    if (this.timeoutsInARow < OPEN_AFTER) return true;
    if (this.probing || this.now() < this.openUntil) return false;
    this.probing = true;
    return true;
  }

  /** A round trip that went out ended: `error` is its failure, or undefined when it was answered. */
  ended(error?: unknown): void {
    this.probing = false;
    if (!isTimeout(error)) {
      this.timeoutsInARow = 0;
      return;
    }
    this.timeoutsInARow += 1;
    if (this.timeoutsInARow >= OPEN_AFTER) this.openUntil = this.now() + OPEN_MS;
  }
}

/** The error a refused round trip rejects with. */
export class StoreStalledError extends Error {
  constructor() {
    super(`the limits store timed out ${OPEN_AFTER} times in a row; not waiting on it for ${OPEN_MS} ms`);
    this.name = "StoreStalledError";
  }
}

/** AbortSignal.timeout's error (a DOMException), as the client rejects with it. */
function isTimeout(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { name?: unknown }).name === "TimeoutError";
}

/** Timeouts in a row that open the breaker. */
const OPEN_AFTER = 3;

/** How long an open breaker refuses before it lets a probe through. */
const OPEN_MS = 1000;
