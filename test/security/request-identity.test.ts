import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { importSigningKey, mintKey } from "../../src/auth";
import { testDb } from "../metering/support";
import { gateway, post } from "../support/gateway";

// Usage rows are keyed by an id the gateway generates; the caller's x-client-request-id (or
// x-request-id) is a bounded, non-unique label stored beside it and echoed back. (The 3 KB id
// among 200 concurrent requests, which needs a spool flush, is in poison-rows.test.ts.)

const gw = gateway({
  routes: {
    "gpt-4o-mini": { targets: [{ provider: "mock", model: "gpt-4o-mini" }] },
    // A translated upstream: the gateway writes the response id itself.
    "claude-sonnet-4-5": { targets: [{ provider: "mock-anthropic", model: "claude-sonnet-4-5" }] },
  },
});
const db = testDb();
const hello = { model: "gpt-4o-mini", messages: [{ role: "user", content: "hello" }] };
const anthropicHello = { model: "gpt-4o-mini", max_tokens: 16, messages: [{ role: "user", content: "hi" }] };

/** A key of a tenant no other test uses, on a plan roomy enough for bursts. */
async function tenantKey(prefix: string): Promise<{ tenant: string; key: string }> {
  const signer = await importSigningKey(env.SLUICE_SIGNING_KEY);
  const tenant = `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
  const { token } = await mintKey(
    signer,
    { tenant, name: prefix, plan: "enterprise" },
    { issuer: "sluice", audience: "sluice" },
  );
  return { tenant, key: token };
}

async function usageOf(tenant: string): Promise<{ request_id: string; client_request_id: string | null }[]> {
  const result = await db.execute(
    sql`select request_id, client_request_id from usage_events where tenant = ${tenant} order by request_id`,
  );
  return result.rows as { request_id: string; client_request_id: string | null }[];
}

const chat = (key: string, headers: Record<string, string> = {}) =>
  gw.fetch("/v1/chat/completions", post(hello, key, headers));

/** A random printable string: incompressible, so Postgres would have to index all of it. */
function noise(length: number): string {
  return Array.from({ length }, () => String.fromCharCode(0x21 + Math.floor(Math.random() * 94))).join("");
}

describe("request identity", () => {
  it("5 requests with one x-request-id leave 5 rows, each labelled with it, each with its own gateway id", async () => {
    const { tenant, key } = await tenantKey("same-id");
    const clientId = `client-${crypto.randomUUID()}`;
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => chat(key, { "x-request-id": clientId })),
    );

    const gatewayIds = new Set<string>();
    for (const res of answers) {
      expect(res.status).toBe(200);
      expect(res.headers.get("x-client-request-id")).toBe(clientId);
      const id = res.headers.get("x-request-id") ?? "";
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      gatewayIds.add(id);
    }
    expect(gatewayIds.size).toBe(5);

    const rows = await usageOf(tenant);
    expect(rows).toHaveLength(5);
    expect(new Set(rows.map((r) => r.request_id))).toEqual(gatewayIds);
    expect(rows.every((r) => r.client_request_id === clientId)).toBe(true);
  });

  it("response ids the gateway writes carry its own id, never the caller's", async () => {
    const { key } = await tenantKey("response-id");
    const res = await gw.fetch(
      "/v1/chat/completions",
      post({ ...hello, model: "claude-sonnet-4-5" }, key, { "x-request-id": "mine" }),
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { id: string }).id).toBe(`chatcmpl-${res.headers.get("x-request-id")}`);
  });

  it("x-client-request-id (OpenAI's header) wins over x-request-id", async () => {
    const { tenant, key } = await tenantKey("client-header");
    const res = await chat(key, { "x-client-request-id": "from-openai-sdk", "x-request-id": "other" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-client-request-id")).toBe("from-openai-sdk");
    expect(res.headers.get("x-request-id")).not.toBe("other");
    expect((await usageOf(tenant)).map((r) => r.client_request_id)).toEqual(["from-openai-sdk"]);
  });

  it("without a caller id the row's label is null and no x-client-request-id is sent", async () => {
    const { tenant, key } = await tenantKey("no-id");
    const res = await chat(key);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-client-request-id")).toBeNull();
    expect((await usageOf(tenant)).map((r) => r.client_request_id)).toEqual([null]);
  });

  it("another tenant reusing the victim's ids erases nothing", async () => {
    const victim = await tenantKey("victim");
    const attacker = await tenantKey("attacker");
    const ids = ["req-1", "req-2", "req-3"].map((id) => `${id}-${crypto.randomUUID()}`);
    // The attacker goes first, then both interleave: the ids collide every way they can.
    for (const id of ids) expect((await chat(attacker.key, { "x-request-id": id })).status).toBe(200);
    for (const id of ids) {
      const [a, b] = await Promise.all([
        chat(victim.key, { "x-request-id": id }),
        chat(attacker.key, { "x-client-request-id": id }),
      ]);
      expect([a.status, b.status]).toEqual([200, 200]);
    }
    const victimRows = await usageOf(victim.tenant);
    expect(victimRows.map((r) => r.client_request_id).sort()).toEqual([...ids].sort());
    expect(await usageOf(attacker.tenant)).toHaveLength(6);
  });

  it.each([
    ["x-request-id", noise(3_200)],
    ["x-client-request-id", noise(3_200)],
    ["x-request-id", "a".repeat(129)],
    ["x-request-id", "tab\tinside"],
    ["x-client-request-id", "del\u007f"],
  ])(
    "%s that is too long or not printable ASCII is refused with 400 invalid_request_id",
    async (header, value) => {
      const { tenant, key } = await tenantKey("bad-id");
      const res = await chat(key, { [header]: value });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: Record<string, unknown> };
      expect(body.error).toMatchObject({
        type: "invalid_request_error",
        param: header,
        code: "invalid_request_id",
      });
      expect(String(body.error.message)).not.toContain(value);
      expect(res.headers.get("x-client-request-id")).toBeNull();
      expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
      expect(await usageOf(tenant)).toEqual([]);
    },
  );

  it("128 printable ASCII characters, spaces and symbols included, are kept as sent", async () => {
    const { tenant, key } = await tenantKey("max-id");
    const value = `id with spaces ~!@#$%^&*()_+{}|:"<>?${"x".repeat(128)}`.slice(0, 128);
    const res = await chat(key, { "x-request-id": value });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-client-request-id")).toBe(value);
    expect((await usageOf(tenant)).map((r) => r.client_request_id)).toEqual([value]);
  });

  it("on /v1/messages the refusal is Anthropic-shaped", async () => {
    const { key } = await tenantKey("anthropic-id");
    const res = await gw.fetch(
      "/v1/messages",
      post(anthropicHello, key, { "x-request-id": noise(3_200), "anthropic-version": "2023-06-01" }),
    );
    expect(res.status).toBe(400);
    const body = (await res.json()) as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe("error");
    expect(body.error.type).toBe("invalid_request_error");
    expect(body.error.message).toContain("x-request-id");
  });
});
