import { env } from "cloudflare:workers";
import { importSigningKey, mintKey } from "../../src/auth";
import { gateway, type TestGateway } from "../support/gateway";

export const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}` };

/** JSON request options with the admin token. */
export const adminJson = (method: string, body?: unknown): RequestInit => ({
  method,
  headers: { ...ADMIN, "content-type": "application/json" },
  body: body === undefined ? undefined : JSON.stringify(body),
});

/**
 * A gateway with one route of its own to the mock, priced high enough ($1,000 / $4,000 per 1M
 * tokens) that $1 lasts a dozen requests.
 */
export function billingGateway(extra: Record<string, unknown> = {}): { gw: TestGateway; model: string } {
  const model = `billing-${crypto.randomUUID().slice(0, 8)}`;
  const gw = gateway({
    routes: { [model]: { targets: [{ provider: "mock", model: "gpt-4o-mini" }], retries: 0 } },
    prices: [{ model: "gpt-4o-mini", provider: "mock", input: 1000, output: 4000 }],
    ...extra,
  });
  return { gw, model };
}

/** A fresh tenant (created through the admin API) and a key of it on the enterprise plan (no budgets). */
export async function prepaidTenant(
  gw: TestGateway,
  mode: "prepaid" | "postpaid" = "prepaid",
  tenant = newTenantId(),
  name?: string,
): Promise<{ tenant: string; token: string }> {
  const created = await gw.fetch(
    "/admin/tenants",
    adminJson("POST", { id: tenant, billing_mode: mode, ...(name === undefined ? {} : { name }) }),
  );
  if (created.status !== 201) throw new Error(`create tenant: ${created.status} ${await created.text()}`);
  const signer = await importSigningKey(env.SLUICE_SIGNING_KEY);
  const { token } = await mintKey(
    signer,
    { tenant, name: "billing", plan: "enterprise" },
    { issuer: "sluice", audience: "sluice" },
  );
  return { tenant, token };
}

/** A fresh tenant id (tests share one database). */
export const newTenantId = (): string => `billing-${crypto.randomUUID().slice(0, 8)}`;

/** A chat call with `key` to `model`. */
export const chatCall = (key: string, model: string, maxTokens = 20): RequestInit => ({
  method: "POST",
  headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
  body: JSON.stringify({
    model,
    messages: [{ role: "user", content: "hello there" }],
    max_tokens: maxTokens,
  }),
});

/** The current UTC month as YYYY-MM. */
export const thisMonth = (): string => new Date().toISOString().slice(0, 7);
