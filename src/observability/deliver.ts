import type { Redis } from "@upstash/redis/cloudflare";
import { type Config, type GatewayEnv, ownValue } from "../config";
import { toHex } from "../encoding";
import { ALERT_QUEUE_KEY } from "../limits";
import type { Log } from "../log";
import { signatureHeader } from "./sign";

/** Alerts waiting for another attempt: member `<attempts>|<alert JSON>`, score = when (ms). */
export const ALERT_RETRY_KEY = "sluice:alerts:retry";
/** Alerts taken per cron run, from the queue and from the retries each. */
const BATCH = 100;
const TIMEOUT_MS = 5000;
const FIRST_BACKOFF_MS = 30_000;
const MAX_BACKOFF_MS = 3_600_000;

export interface DeliveryOptions {
  redis: Redis;
  config: Config;
  env: GatewayEnv;
  fetcher: typeof fetch;
  now: () => number;
  log: Log;
  /** Where alerts wait (defaults: ALERT_QUEUE_KEY and ALERT_RETRY_KEY); tests use their own. */
  keys?: { queue: string; retry: string };
}

type Alert = Record<string, unknown>;

const queueKey = (opts: DeliveryOptions) => opts.keys?.queue ?? ALERT_QUEUE_KEY;
const retryKey = (opts: DeliveryOptions) => opts.keys?.retry ?? ALERT_RETRY_KEY;

/**
 * Sends queued alerts as signed webhooks (run by the cron trigger, off the request path): due
 * retries first, then new alerts. Taking an alert is atomic (LPOP, ZREM), so isolates running
 * the cron at once never send one twice; a failed delivery is retried with doubling backoff up
 * to `alerts.max_attempts`. Returns how many were sent and failed.
 * @example ctx.waitUntil(deliverAlerts({ redis, config, env, fetcher: fetch, now: Date.now, log }))
 */
export async function deliverAlerts(opts: DeliveryOptions): Promise<{ sent: number; failed: number }> {
  const taken = [...(await takeDueRetries(opts)), ...(await takeQueued(opts))];
  const results = await Promise.all(taken.map((item) => deliverOne(opts, item.alert, item.attempts)));
  const sent = results.filter(Boolean).length;
  return { sent, failed: results.length - sent };
}

async function takeQueued(opts: DeliveryOptions): Promise<{ alert: Alert; attempts: number }[]> {
  const items = ((await opts.redis.lpop<unknown[]>(queueKey(opts), BATCH)) ?? []) as unknown[];
  return items.flatMap((item) => {
    const alert = readAlert(item);
    return alert ? [{ alert, attempts: 0 }] : [];
  });
}

async function takeDueRetries(opts: DeliveryOptions): Promise<{ alert: Alert; attempts: number }[]> {
  const due = await opts.redis.zrange<string[]>(retryKey(opts), 0, opts.now(), {
    byScore: true,
    offset: 0,
    count: BATCH,
  });
  const mine: { alert: Alert; attempts: number }[] = [];
  for (const member of due) {
    // Whoever removes it sends it.
    if ((await opts.redis.zrem(retryKey(opts), member)) !== 1) continue;
    const cut = String(member).indexOf("|");
    const alert = readAlert(String(member).slice(cut + 1));
    if (alert) mine.push({ alert, attempts: Number(String(member).slice(0, cut)) || 0 });
  }
  return mine;
}

/** An alert as queued: JSON text, or already parsed by the client. */
function readAlert(item: unknown): Alert | null {
  try {
    const value = typeof item === "string" ? JSON.parse(item) : item;
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Alert) : null;
  } catch {
    return null;
  }
}

/** Where an alert goes: its tenant's own destination for budgets, else the global one. */
function destination(config: Config, alert: Alert): { url: string; secret: string } | null {
  const own = alert.type === "budget" ? ownValue(config.alerts.tenants, String(alert.tenant)) : undefined;
  if (own) return { url: own.webhook_url, secret: own.secret_binding };
  const url = config.alerts.webhook_url;
  return url ? { url, secret: config.alerts.secret_binding } : null;
}

async function deliverOne(opts: DeliveryOptions, alert: Alert, attempts: number): Promise<boolean> {
  const to = destination(opts.config, alert);
  if (!to) return false;
  const secret = opts.env[to.secret];
  const body = JSON.stringify(await webhookBody(alert));
  try {
    if (typeof secret !== "string" || secret === "") throw new Error(`secret ${to.secret} is not set`);
    const response = await opts.fetcher(to.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "sluice-alerts",
        "sluice-signature": await signatureHeader(secret, body, Math.floor(opts.now() / 1000)),
      },
      body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await response.body?.cancel();
    if (response.ok) return true;
    throw new Error(`HTTP ${response.status}`);
  } catch (error) {
    await retryLater(opts, alert, attempts + 1, error);
    return false;
  }
}

async function retryLater(
  opts: DeliveryOptions,
  alert: Alert,
  attempts: number,
  error: unknown,
): Promise<void> {
  const fields = { type: alert.type, attempts, error: String(error).slice(0, 200) };
  if (attempts >= opts.config.alerts.max_attempts) {
    opts.log("error", "alert given up", fields);
    return;
  }
  opts.log("warn", "alert delivery failed; retrying later", fields);
  const delay = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (attempts - 1));
  await opts.redis.zadd(retryKey(opts), {
    score: opts.now() + delay,
    member: `${attempts}|${JSON.stringify(alert)}`,
  });
}

/** The webhook's JSON: the alert with a stable id (receivers dedupe on it) and dollars beside micros. */
async function webhookBody(alert: Alert): Promise<Alert> {
  const identity =
    alert.type === "budget"
      ? [alert.tenant, alert.scope, alert.scope_id, alert.period, alert.threshold]
      : [alert.target, alert.state, alert.at];
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(identity)));
  const id = `alert_${toHex(new Uint8Array(digest)).slice(0, 24)}`;
  const usd = (micros: unknown) => (typeof micros === "number" ? micros / 1e6 : undefined);
  return alert.type === "budget"
    ? { id, ...alert, limit_usd: usd(alert.limit_micros), spent_usd: usd(alert.spent_micros) }
    : { id, ...alert };
}
