/**
 * Work gathered across the requests an isolate serves and sent together (usage rows, limit
 * settlements): each outbound request costs ~190 us of CPU in workerd, so a batch of N costs the
 * isolate one instead of N. The first item opens a batch and starts its window; the batch goes out
 * when the window ends (or on `flush`); a full batch takes no more items.
 */
export interface WindowBatcherOptions<T> {
  /** Sends one batch. Must not reject: failures are the sender's to log or retry. */
  send(items: T[]): Promise<void>;
  /** How long the first item of a batch waits for company. */
  windowMs: number;
  /** A full batch is closed: the next item opens a new one. */
  maxItems: number;
}

interface Batch<T> {
  items: T[];
  sent: boolean;
  /** Settles the opener's promise once the batch was sent. */
  done: () => void;
}

/**
 * Batches items across requests without ever making one request wait on another's I/O, which
 * workerd refuses ("Cannot perform I/O on behalf of a different request") and which then hangs
 * the waiting request. The request that opens a batch owns it: its own timer sends the batch
 * from its own context when the window ends, and only it waits (its waitUntil keeps the isolate
 * alive until the batch is stored). Requests that join an open batch hand their item over and
 * return at once.
 * @example const rows = new WindowBatcher({ send: insertRows, windowMs: 5, maxItems: 500 }); ctx.waitUntil(rows.add(row))
 */
export class WindowBatcher<T> {
  private open: Batch<T> | undefined;

  constructor(private readonly opts: WindowBatcherOptions<T>) {}

  /** Queues an item; the opener's promise settles once the batch was sent; it never rejects. */
  add(item: T): Promise<void> {
    const open = this.open;
    if (open && !open.sent && open.items.length < this.opts.maxItems) {
      open.items.push(item);
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const batch: Batch<T> = { items: [item], sent: false, done: resolve };
      this.open = batch;
      setTimeout(() => this.send(batch), this.opts.windowMs);
    });
  }

  /** Sends the open batch now, from the calling request, and waits for it (cron and tests, not the request path). */
  flush(): Promise<void> {
    return this.open ? this.send(this.open) : Promise.resolve();
  }

  private send(batch: Batch<T>): Promise<void> {
    if (batch.sent) return Promise.resolve();
    batch.sent = true;
    if (this.open === batch) this.open = undefined;
    return this.opts
      .send(batch.items)
      .catch(() => {})
      .finally(batch.done);
  }
}
