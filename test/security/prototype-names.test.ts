import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { importSigningKey, mintKey } from "../../src/auth";
import { ConfigSchema } from "../../src/config";
import { resolveLimits } from "../../src/limits";
import { gateway, post } from "../support/gateway";

// Names a caller picks (models, and plans and tenants carried by keys) are looked up with Map or
// own-property checks: Object.prototype's names are unknown names like any other, never a 500
// and never a way around the limits.

const NAMES = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "__defineGetter__"];

const gw = gateway({
  routes: { "gpt-4o-mini": { targets: [{ provider: "mock", model: "gpt-4o-mini" }] } },
  plans: { free: { rpm: 3 }, enterprise: { rpm: 6000 } },
  default_plan: "free",
});

async function keyWith(claims: { plan?: string; tenant?: string } = {}): Promise<string> {
  const signer = await importSigningKey(env.SLUICE_SIGNING_KEY);
  const { token } = await mintKey(
    signer,
    { tenant: `proto-${crypto.randomUUID().slice(0, 8)}`, plan: "enterprise", ...claims },
    { issuer: "sluice", audience: "sluice", expiresInSeconds: 3600 },
  );
  return token;
}

const KEY = await keyWith();
const bearer = { authorization: `Bearer ${KEY}` };

const CALLS: [string, (model: string) => Promise<Response>][] = [
  [
    "chat",
    (model) =>
      gw.fetch("/v1/chat/completions", post({ model, messages: [{ role: "user", content: "hi" }] }, KEY)),
  ],
  [
    // A streamed chat looks its route up first for `stream_passthrough`.
    "chat stream",
    (model) =>
      gw.fetch(
        "/v1/chat/completions",
        post({ model, stream: true, messages: [{ role: "user", content: "hi" }] }, KEY),
      ),
  ],
  ["completions", (model) => gw.fetch("/v1/completions", post({ model, prompt: "hi" }, KEY))],
  ["embeddings", (model) => gw.fetch("/v1/embeddings", post({ model, input: "hi" }, KEY))],
  [
    "messages",
    (model) =>
      gw.fetch(
        "/v1/messages",
        post({ model, max_tokens: 8, messages: [{ role: "user", content: "hi" }] }, KEY),
      ),
  ],
  [
    "count_tokens",
    (model) =>
      gw.fetch(
        "/v1/messages/count_tokens",
        post({ model, messages: [{ role: "user", content: "hi" }] }, KEY),
      ),
  ],
  ["responses", (model) => gw.fetch("/v1/responses", post({ model, input: "hi" }, KEY))],
  [
    "gemini generateContent",
    (model) =>
      gw.fetch(
        `/v1beta/models/${encodeURIComponent(model)}:generateContent`,
        post({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }, KEY),
      ),
  ],
  [
    "GET /v1/models/{name}",
    (model) => gw.fetch(`/v1/models/${encodeURIComponent(model)}`, { headers: bearer }),
  ],
];

describe("Object.prototype names as models", () => {
  for (const [what, call] of CALLS) {
    it.each(NAMES)(`${what}: model %s → 404 model_not_found`, async (name) => {
      const res = await call(name);
      expect(res.status).toBe(404);
      const body = (await res.json()) as Record<string, Record<string, unknown>>;
      if (what === "messages" || what === "count_tokens") {
        expect(body).toMatchObject({ type: "error", error: { type: "not_found_error" } });
        expect(body.error?.message).toContain(name);
      } else if (what.startsWith("gemini")) {
        // Google's error shape: { error: { code, message, status } }.
        expect(body.error).toMatchObject({ code: 404 });
      } else {
        expect(body.error).toMatchObject({ code: "model_not_found" });
      }
    });
  }
});

describe("Object.prototype names as ids", () => {
  it.each(NAMES)("GET and DELETE /v1/responses/%s → 404, never 500", async (name) => {
    for (const method of ["GET", "DELETE"]) {
      const res = await gw.fetch(`/v1/responses/${encodeURIComponent(name)}`, { method, headers: bearer });
      expect(res.status).toBe(404);
    }
  });

  it.each(NAMES)("admin: /admin/tenants/%s is a 4xx, never 500", async (name) => {
    const admin = { authorization: `Bearer ${env.ADMIN_TOKEN}` };
    for (const path of ["", "/balance", "/ledger", "/statement?month=2026-11"]) {
      const res = await gw.fetch(`/admin/tenants/${encodeURIComponent(name)}${path}`, { headers: admin });
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.status, path).toBeLessThan(500);
    }
  });
});

describe("Object.prototype names as plans and tenants", () => {
  it("a key whose plan is toString gets the default plan's rpm, not no limits", async () => {
    const key = await keyWith({ plan: "toString" });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await gw.fetch("/v1/models", { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(200);
      const chat = await gw.fetch(
        "/v1/chat/completions",
        post({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], max_tokens: 4 }, key),
      );
      statuses.push(chat.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it("resolves every prototype name as an unknown plan and an unconfigured tenant", () => {
    const config = ConfigSchema.parse({
      plans: { free: { rpm: 3, budget_usd_day: 1 } },
      default_plan: "free",
      tenant_limits: { acme: { rpm: 100 } },
    });
    for (const name of NAMES) {
      const limits = resolveLimits(config, {
        tenant: name,
        keyId: "k",
        plan: name,
        limits: {},
        expiresAt: null,
      });
      expect(limits.rates, name).toEqual([{ scope: { kind: "key", id: "k" }, rpm: 3, tpm: undefined }]);
      expect(
        limits.budgets.map((b) => b.micros),
        name,
      ).toEqual([1_000_000]);
    }
  });

  it("a config naming a prototype name as provider, preset or default plan fails loudly", () => {
    expect(() =>
      ConfigSchema.parse({ routes: { m: { targets: [{ provider: "toString", model: "m" }] } } }),
    ).toThrow(/unknown provider/);
    expect(() => ConfigSchema.parse({ default_plan: "constructor" })).toThrow(/unknown plan/);
    expect(() => ConfigSchema.parse({ providers: { p: { preset: "toString" } } })).toThrow();
  });
});
