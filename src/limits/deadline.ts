import { startTimer } from "../timers";

/** A promise's answer: its value, its error, or a timeout when the deadline passed first. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Waits for every promise, but no longer than `ms`; one still pending then counts as failed.
 * Never rejects.
 * @example const [a, b] = await within(1000, [redis.get("a"), redis.get("b")])
 */
export async function within<T>(ms: number, promises: Promise<T>[]): Promise<Outcome<T>[]> {
  const outcomes: (Outcome<T> | undefined)[] = promises.map(() => undefined);
  const all = Promise.all(
    promises.map((promise, i) =>
      promise.then(
        (value) => {
          outcomes[i] = { ok: true, value };
        },
        (error: unknown) => {
          outcomes[i] = { ok: false, error };
        },
      ),
    ),
  );
  const timer = startTimer(ms);
  await Promise.race([all, timer.elapsed]);
  timer.cancel();
  // Built only when needed: an Error captures a stack trace, which costs microseconds per admission.
  let timedOut: Error | undefined;
  return outcomes.map((outcome) => {
    if (outcome) return outcome;
    timedOut ??= new Error(`no answer from Redis within ${ms} ms`);
    return { ok: false, error: timedOut };
  });
}
