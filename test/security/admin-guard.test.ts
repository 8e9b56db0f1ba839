import { describe, expect, it } from "vitest";
import {
  ADMIN,
  adminJson,
  apiKeyRows,
  bearer,
  bindings,
  callWorker,
  chat,
  createKey,
  type ErrorJson,
  testGateway,
  uniqueTenant,
} from "../admin/support";

/**
 * The admin guard held against every attempt in issue 10's adversarial run; these keep it holding.
 * Every /admin route but the dashboard page (which holds no data) wants `Authorization: Bearer
 * <ADMIN_TOKEN>`. src/auth/admin-token.ts compares SHA-256 digests of both tokens over all 32 bytes,
 * so neither content nor length decides how early it stops; here only behaviour is tested.
 */

const TOKEN = bindings.ADMIN_TOKEN as string;

/** Every admin route, with a body where it takes one. */
const ROUTES: [string, string][] = [
  ["POST", "/admin/keys"],
  ["GET", "/admin/keys"],
  ["GET", "/admin/keys/some-id"],
  ["DELETE", "/admin/keys/some-id"],
  ["POST", "/admin/keys/some-id/rotate"],
  ["GET", "/admin/usage"],
  ["GET", "/admin/usage/export"],
  ["GET", "/admin/usage/requests"],
  // No route here: still 401, so an unauthenticated caller learns nothing about the routes.
  ["GET", "/admin/nope"],
  ["GET", "/admin/"],
];

/** Swaps the last character for another: the same length, wrong content. */
const lastCharFlipped = (token: string) => token.slice(0, -1) + (token.endsWith("a") ? "b" : "a");
const firstCharFlipped = (token: string) => (token.startsWith("a") ? "b" : "a") + token.slice(1);

const ATTEMPTS: [string, Record<string, string>][] = [
  ["no credentials", {}],
  ["a wrong token", { authorization: "Bearer not-the-admin-token" }],
  ["a token of the same length, last character wrong", { authorization: `Bearer ${lastCharFlipped(TOKEN)}` }],
  [
    "a token of the same length, first character wrong",
    { authorization: `Bearer ${firstCharFlipped(TOKEN)}` },
  ],
  ["the token minus its last character", { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
  ["the token plus one character", { authorization: `Bearer ${TOKEN}x` }],
  ["a one-character token", { authorization: "Bearer a" }],
  ["a 10 KB token", { authorization: `Bearer ${"a".repeat(10_240)}` }],
  ["the token upper-cased", { authorization: `Bearer ${TOKEN.toUpperCase()}` }],
  ["the token base64-encoded", { authorization: `Bearer ${btoa(TOKEN)}` }],
  ["the token in quotes", { authorization: `Bearer "${TOKEN}"` }],
  ["the token without a scheme", { authorization: TOKEN }],
  ["the token as Basic", { authorization: `Basic ${TOKEN}` }],
  ["the token as Basic user:password", { authorization: `Basic ${btoa(`admin:${TOKEN}`)}` }],
  ["the token with a Token scheme", { authorization: `Token ${TOKEN}` }],
  ["Bearer glued to the token", { authorization: `Bearer${TOKEN}` }],
  ["Bearer alone", { authorization: "Bearer" }],
  ["Bearer with blanks", { authorization: "Bearer   " }],
  ["the token followed by a second word", { authorization: `Bearer ${TOKEN} ${TOKEN}` }],
  ["two bearer credentials in one header", { authorization: `Bearer ${TOKEN}, Bearer ${TOKEN}` }],
  ["a wrong bearer beside the right x-api-key", { authorization: "Bearer wrong", "x-api-key": `${TOKEN}x` }],
  ["a tenant's API key", bearer(bindings.SLUICE_DEMO_KEY as string)],
  ["a tenant's API key as x-api-key", { "x-api-key": bindings.SLUICE_DEMO_KEY as string }],
  ["the token in a cookie", { cookie: `admin_token=${TOKEN}` }],
  ["the token in another header", { "x-admin-token": TOKEN }],
];

async function expectRefused(res: Response, where: string): Promise<void> {
  expect(res.status, where).toBe(401);
  const text = await res.text();
  const body = JSON.parse(text) as ErrorJson;
  expect(body.error, where).toMatchObject({ type: "authentication_error", code: "invalid_admin_token" });
  // The refusal never echoes what was presented.
  expect(text).not.toContain(TOKEN);
}

function request(method: string, headers: Record<string, string>): RequestInit {
  return {
    method,
    headers: { ...headers, "content-type": "application/json" },
    body: method === "POST" ? JSON.stringify({ tenant: "intruder" }) : undefined,
  };
}

describe("admin guard", () => {
  for (const [who, headers] of ATTEMPTS) {
    it(`refuses ${who} with 401 on every admin route`, async () => {
      for (const [method, path] of ROUTES) {
        await expectRefused(await callWorker(path, request(method, headers)), `${method} ${path}`);
      }
    });
  }

  it("control: the admin token opens every route, with the scheme in any case", async () => {
    for (const authorization of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `BEARER  ${TOKEN}`]) {
      for (const [method, path] of [
        ["GET", "/admin/keys"],
        ["GET", "/admin/usage"],
        ["GET", "/admin/usage/requests"],
      ]) {
        const res = await callWorker(path as string, { method, headers: { authorization } });
        expect(res.status, `${authorization.slice(0, 7)} ${path}`).toBe(200);
        await res.body?.cancel();
      }
    }
  });

  it("a refused request changes nothing: no key minted, no key revoked", async () => {
    const tenant = uniqueTenant("guard");
    for (const [, headers] of ATTEMPTS) {
      await callWorker("/admin/keys", {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({ tenant }),
      });
    }
    expect(await apiKeyRows(tenant)).toEqual([]);

    const victim = await createKey(callWorker);
    for (const [, headers] of ATTEMPTS) {
      await callWorker(`/admin/keys/${victim.id}`, { method: "DELETE", headers });
      await callWorker(`/admin/keys/${victim.id}/rotate`, { method: "POST", headers });
    }
    const [row] = await apiKeyRows(victim.tenant);
    expect(row).toMatchObject({ revoked_at: null, grace_ends_at: null });
    expect((await callWorker("/v1/chat/completions", chat(victim.key))).status).toBe(200);
  });

  it("a gateway without ADMIN_TOKEN keeps the admin API closed to everyone", async () => {
    for (const adminToken of ["", undefined]) {
      const gw = testGateway({ env: { ADMIN_TOKEN: adminToken } });
      for (const headers of [
        {},
        { authorization: "Bearer " },
        { authorization: "Bearer undefined" },
        ADMIN,
      ]) {
        for (const [method, path] of ROUTES) {
          await expectRefused(
            await gw.fetch(path, request(method, headers)),
            `${adminToken} ${method} ${path}`,
          );
        }
      }
    }
  });

  it("the dashboard page is served without a token but holds no data", async () => {
    const key = await createKey(callWorker, { name: "dashboard-secret-name" });
    const res = await callWorker("/admin/dashboard", { headers: {} });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).not.toContain(key.tenant);
    expect(html).not.toContain(key.id);
    expect(html).not.toContain(TOKEN);
  });

  it("the admin token is not an API key", async () => {
    const res = await callWorker("/v1/chat/completions", chat(TOKEN));
    expect(res.status).toBe(401);
    const mint = await callWorker("/admin/keys", adminJson("POST", { tenant: uniqueTenant() }));
    expect(mint.status).toBe(201);
  });
});
