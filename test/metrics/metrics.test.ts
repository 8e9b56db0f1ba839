import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { usageRows } from "../admin/support";
import { gateway } from "../support/gateway";
import { ADMIN, chatCall, freshKey, meteredGateway, parseExposition, scrape, total } from "./support";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("live metrics in Redis, exposed for Prometheus", () => {
  it("counts requests, errors, tokens, cost and latency as the usage rows record them", async () => {
    const { gw, model } = meteredGateway();
    const broken = `${model}-broken`;
    gw.services.config.routes[broken] = {
      ...(gw.services.config.routes[model] as (typeof gw.services.config.routes)[string]),
      targets: [{ provider: "mock", model: "gpt-4o-mini+fault=status-503", weight: 1 }],
    };
    const { token, tenant } = await freshKey();
    for (let i = 0; i < 4; i++)
      expect((await gw.fetch("/v1/chat/completions", chatCall(token, model))).status).toBe(200);
    expect((await gw.fetch("/v1/chat/completions", chatCall(token, broken))).status).toBe(503);

    const samples = await scrape(gw);
    const rows = await usageRows(tenant);
    expect(rows).toHaveLength(5);
    const labels = { model, route: "chat", provider: "mock" };
    expect(total(samples, "sluice_requests_total", { ...labels, status_class: "2xx" })).toBe(4);
    expect(total(samples, "sluice_requests_total", { model: broken, status_class: "5xx" })).toBe(1);
    expect(total(samples, "sluice_errors_total", { model: broken })).toBe(1);
    const prompt = rows.reduce((sum, row) => sum + Number(row.prompt_tokens), 0);
    const completion = rows.reduce((sum, row) => sum + Number(row.completion_tokens), 0);
    expect(total(samples, "sluice_tokens_total", { ...labels, type: "prompt" })).toBe(prompt);
    expect(total(samples, "sluice_tokens_total", { ...labels, type: "completion" })).toBe(completion);
    const cost = rows.reduce((sum, row) => sum + Number(row.cost_usd ?? 0), 0);
    expect(cost).toBeGreaterThan(0);
    expect(total(samples, "sluice_cost_usd_total", labels)).toBeCloseTo(cost, 12);
    expect(total(samples, "sluice_request_duration_seconds_count", labels)).toBe(4);
    expect(total(samples, "sluice_request_duration_seconds_bucket", { ...labels, le: "+Inf" })).toBe(4);
    expect(total(samples, "sluice_request_duration_seconds_count", { model: broken })).toBe(1);
    expect(total(samples, "sluice_upstream_ttfb_seconds_count", labels)).toBe(4);
    // No tenant or key label unless configured (only this gateway's models: other files share Redis).
    const ours = samples.filter((s) => s.labels.model === model || s.labels.model === broken);
    expect(ours.length).toBeGreaterThan(0);
    expect(ours.some((s) => "tenant" in s.labels || "key" in s.labels)).toBe(false);
  });

  it("counts refused requests too (429 with nothing reserved)", async () => {
    const { gw, model } = meteredGateway();
    const { token } = await freshKey({ rpm: 1 });
    expect((await gw.fetch("/v1/chat/completions", chatCall(token, model))).status).toBe(200);
    expect((await gw.fetch("/v1/chat/completions", chatCall(token, model))).status).toBe(429);
    const samples = await scrape(gw);
    expect(total(samples, "sluice_requests_total", { model, status_class: "4xx" })).toBe(1);
    expect(total(samples, "sluice_errors_total", { model, kind: "rate_limit_exceeded" })).toBe(1);
  });

  it("adds tenant and key labels only when configured", async () => {
    const { gw, model } = meteredGateway({ metrics: { tenant_label: true, key_label: true } });
    const { token, tenant } = await freshKey();
    await gw.fetch("/v1/chat/completions", chatCall(token, model));
    const samples = await scrape(gw);
    const mine = samples.filter((s) => s.name === "sluice_requests_total" && s.labels.model === model);
    expect(mine).toHaveLength(1);
    expect(mine[0]?.labels.tenant).toBe(tenant);
    expect(mine[0]?.labels.key).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("escapes caller-influenced label values and keeps the exposition parseable", async () => {
    const model = `odd"model\\with\nnewline-${crypto.randomUUID().slice(0, 6)}`;
    const gw = gateway({ routes: { [model]: { targets: [{ provider: "mock", model: "gpt-4o-mini" }] } } });
    const { token } = await freshKey();
    expect((await gw.fetch("/v1/chat/completions", chatCall(token, model))).status).toBe(200);
    const text = await (await gw.fetch("/admin/metrics", { headers: ADMIN })).text();
    expect(text).toContain('model="odd\\"model\\\\with\\nnewline-');
    expect(total(parseExposition(text), "sluice_requests_total", { model })).toBe(1);
  });

  it("stops adding series past max_series and counts what it dropped", async () => {
    const { gw, model } = meteredGateway({ metrics: { max_series: 1 } });
    const { token } = await freshKey();
    const before = total(await scrape(gw), "sluice_metrics_dropped_series_total", {});
    await gw.fetch("/v1/chat/completions", chatCall(token, model));
    const samples = await scrape(gw);
    expect(samples.some((s) => s.labels.model === model)).toBe(false);
    expect(total(samples, "sluice_metrics_dropped_series_total", {})).toBeGreaterThan(before);
  });

  it("adds no Redis round trip: the counts ride with the settlement batch", async () => {
    const origin = new URL(env.UPSTASH_REDIS_REST_URL).origin;
    const spy = vi.spyOn(globalThis, "fetch");
    const redisFetches = () =>
      spy.mock.calls.filter(
        ([input]) => new URL(input instanceof Request ? input.url : String(input)).origin === origin,
      ).length;
    const perRequest = async (enabled: boolean) => {
      const { gw, model } = meteredGateway({ metrics: { enabled } });
      const { token } = await freshKey();
      await gw.fetch("/v1/chat/completions", chatCall(token, model)); // warm: script SHAs
      const before = redisFetches();
      for (let i = 0; i < 3; i++) await gw.fetch("/v1/chat/completions", chatCall(token, model));
      return (redisFetches() - before) / 3;
    };
    const off = await perRequest(false);
    const on = await perRequest(true);
    expect(on).toBe(off);
  });
});

describe("GET /admin/metrics guard", () => {
  it("takes the admin token or METRICS_TOKEN, nothing else", async () => {
    const metricsToken = "metrics-reader-token-0123456789";
    const gw = gateway({}, {});
    const withToken = gateway();
    (withToken.services.env as Record<string, unknown>).METRICS_TOKEN = metricsToken;
    expect((await gw.fetch("/admin/metrics")).status).toBe(401);
    expect((await gw.fetch("/admin/metrics", { headers: { authorization: "Bearer nope" } })).status).toBe(
      401,
    );
    // Without METRICS_TOKEN configured, an empty bearer never matches.
    expect((await gw.fetch("/admin/metrics", { headers: { authorization: "Bearer " } })).status).toBe(401);
    expect((await gw.fetch("/admin/metrics", { headers: ADMIN })).status).toBe(200);
    const reader = { authorization: `Bearer ${metricsToken}` };
    expect((await withToken.fetch("/admin/metrics", { headers: reader })).status).toBe(200);
    expect((await withToken.fetch("/admin/metrics/live", { headers: reader })).status).toBe(200);
    // The metrics token is no admin credential.
    expect((await withToken.fetch("/admin/keys", { headers: reader })).status).toBe(401);
    expect((await gw.fetch("/admin/metrics", { headers: reader })).status).toBe(401);
  });
});

describe("the dashboard's live strip", () => {
  it("sums the last five minutes and lists every configured target's breaker", async () => {
    const { gw, model } = meteredGateway();
    const { token } = await freshKey();
    for (let i = 0; i < 3; i++) await gw.fetch("/v1/chat/completions", chatCall(token, model));
    const res = await gw.fetch("/admin/metrics/live", { headers: ADMIN });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      live: {
        requests: number;
        requestsPerSecond: number;
        p95Ms: number | null;
        costPerHourUsd: number;
        points: unknown[];
      };
      breakers: { target: string; shared: string; this_instance: string }[];
    };
    // Every test's traffic lands in the same live buckets: at least ours.
    expect(body.live.requests).toBeGreaterThanOrEqual(3);
    expect(body.live.requestsPerSecond).toBeGreaterThan(0);
    expect(body.live.p95Ms).toBeGreaterThan(0);
    expect(body.live.costPerHourUsd).toBeGreaterThan(0);
    expect(body.live.points.length).toBeGreaterThanOrEqual(30);
    expect(body.breakers).toContainEqual({
      target: "mock/gpt-4o-mini",
      shared: "closed",
      open_until: null,
      this_instance: "closed",
    });

    const page = await (await gw.fetch("/admin/dashboard")).text();
    expect(page).toContain('id="live-rps"');
    expect(page).toContain('"/admin/metrics/live"');
  });
});
