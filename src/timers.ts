/**
 * Resolves after `ms` milliseconds.
 * @example await sleep(50)
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A running timer: `elapsed` resolves when it fires; after `cancel()` it never does. */
export interface Timer {
  elapsed: Promise<void>;
  cancel(): void;
}

/**
 * Starts a timer that can be cancelled: the one deadline primitive behind the gateway's time
 * limits (Redis round trip, body reads, image fetches, usage inserts).
 * @example const timer = startTimer(1000); await Promise.race([work, timer.elapsed]); timer.cancel()
 */
export function startTimer(ms: number): Timer {
  let handle: ReturnType<typeof setTimeout> | undefined;
  const elapsed = new Promise<void>((resolve) => {
    handle = setTimeout(resolve, ms);
  });
  return { elapsed, cancel: () => clearTimeout(handle) };
}

/**
 * Settles as `promise` does, or rejects with `onTimeout()` when `ms` pass first. The work itself
 * is not stopped: only callers whose work is safe to abandon (or that abort it in `onTimeout`) use it.
 * @example await withTimeout(insertRows(rows), 5000, () => new Error("insert timed out"))
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => unknown): Promise<T> {
  const timer = startTimer(ms);
  const expired = timer.elapsed.then((): never => {
    throw onTimeout();
  });
  return Promise.race([promise, expired]).finally(timer.cancel);
}
