import type { Context } from "hono";
import type { AppEnv } from "../context";
import type { Admission } from "../limits/types";
import type { RequestMeter } from "../metering";

/** A request past the gate: its usage record and its reservations, settled once it ends. */
export interface Metered {
  record: RequestMeter;
  admission: Admission;
}

/** How a request ended, as its usage row records it. */
export type RequestOutcome = Parameters<RequestMeter["finish"]>[0];

/**
 * Settles a request off the hot path, in waitUntil: counts it in the live metrics (sent with the
 * settlement batch), releases its reservations to the real spend, writes its one usage row and
 * ends its trace.
 * A stream passes the promise of its outcome.
 * @example settle(c, metered, { status: 200, errorCode: null, usage, usageSource: "provider" })
 */
export function settle(
  c: Context<AppEnv>,
  metered: Metered,
  outcome: RequestOutcome | Promise<RequestOutcome>,
): void {
  const services = c.get("services");
  const trace = c.get("trace");
  trace?.settling();
  const release = (ended: RequestOutcome) => {
    const settled = metered.record.finish(ended);
    // Before the settlement joins its batch, so the batch carries this request's counts.
    services.metrics.record(settled.record, settled.costPicoUsd);
    const costUsd = settled.costPicoUsd === null ? null : Number(settled.costPicoUsd) / 1e12;
    return Promise.all([
      metered.admission.settle({
        tokens: settled.tokens,
        costMicros: settled.costMicros,
        billedMicros: settled.billedMicros,
      }),
      settled.write(),
      trace?.finish(settled.record, costUsd, ended.status),
    ]);
  };
  c.executionCtx.waitUntil(outcome instanceof Promise ? outcome.then(release) : release(outcome));
}
