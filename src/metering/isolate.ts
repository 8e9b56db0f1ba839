/** An item the store refused on its own, with the error it got. */
export interface Refusal<T> {
  item: T;
  error: unknown;
}

export interface Isolation<T> {
  /** Items refused even alone: each is the cause of its own failure. */
  refused: Refusal<T>[];
  /**
   * Items left unstored because a failure that is not theirs (an outage, a schema problem)
   * stopped the work; empty when everything else was stored.
   */
  unsettled: T[];
  /** The failure that left `unsettled` items; undefined when there are none. */
  error?: unknown;
}

/**
 * Stores a batch; when the store fails for a reason `isItemFailure` pins on the batch's content,
 * splits it in halves, recursively, until every refused item stands alone, and stores the rest
 * (one bad row in 500 costs about 2·log2(500) ≈ 18 statements, paid only when one is refused).
 * Halves are tried in order, one at a time. A failure `isItemFailure` rejects stops the work: what
 * was not stored yet comes back as `unsettled`, with that error, for the caller to keep.
 * @example const { refused, unsettled } = await storeIsolating(rows, insert, async (e) => classifyDbError(e) === "content")
 */
export async function storeIsolating<T>(
  items: readonly T[],
  store: (items: T[]) => Promise<void>,
  isItemFailure: (error: unknown, items: readonly T[]) => boolean | Promise<boolean>,
): Promise<Isolation<T>> {
  const refused: Refusal<T>[] = [];
  const pending: T[][] = items.length ? [[...items]] : [];
  for (let batch = pending.shift(); batch; batch = pending.shift()) {
    try {
      await store(batch);
    } catch (error) {
      if (!(await isItemFailure(error, batch)))
        return { refused, unsettled: [...batch, ...pending.flat()], error };
      if (batch.length === 1) refused.push({ item: batch[0] as T, error });
      else {
        const middle = Math.ceil(batch.length / 2);
        pending.unshift(batch.slice(0, middle), batch.slice(middle));
      }
    }
  }
  return { refused, unsettled: [] };
}
