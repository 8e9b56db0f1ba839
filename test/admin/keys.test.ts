import { describe, expect, it } from "vitest";
import { generateSigningKey, inspectKey, KEY_PREFIX } from "../../src/auth";
import { revokedKeyName } from "../../src/limits";
import {
  ADMIN,
  adminJson,
  apiKeyRows,
  bearer,
  bindings,
  callWorker,
  createKey,
  type ErrorJson,
  type KeyJson,
  testGateway,
  testRedis,
  uniqueTenant,
} from "./support";

const DAY = 86_400;

async function errorOf(res: Response): Promise<ErrorJson["error"]> {
  const body = (await res.json()) as ErrorJson;
  expect(Object.keys(body)).toEqual(["error"]);
  expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
  return body.error;
}

describe("admin authentication", () => {
  const routes: [string, string][] = [
    ["POST", "/admin/keys"],
    ["GET", "/admin/keys"],
    ["GET", "/admin/keys/some-id"],
    ["DELETE", "/admin/keys/some-id"],
    ["POST", "/admin/keys/some-id/rotate"],
  ];
  const credentials: [string, Record<string, string>][] = [
    ["no credentials", {}],
    ["a wrong token", { authorization: "Bearer not-the-admin-token" }],
    ["the admin token with a typo", { authorization: `${ADMIN.authorization}x` }],
    ["an API key", bearer(bindings.SLUICE_DEMO_KEY as string)],
    ["an API key as x-api-key", { "x-api-key": bindings.SLUICE_DEMO_KEY as string }],
  ];

  for (const [who, headers] of credentials) {
    it(`refuses ${who} with 401 on every key route`, async () => {
      for (const [method, path] of routes) {
        const res = await callWorker(path, {
          method,
          headers: { ...headers, "content-type": "application/json" },
          body: method === "POST" ? JSON.stringify({ tenant: "intruder" }) : undefined,
        });
        expect(res.status, `${method} ${path}`).toBe(401);
        expect(await errorOf(res)).toMatchObject({
          type: "authentication_error",
          code: "invalid_admin_token",
        });
      }
    });
  }

  it("a refused create stores nothing", async () => {
    const tenant = uniqueTenant("intruder");
    await callWorker("/admin/keys", {
      method: "POST",
      headers: bearer(bindings.SLUICE_DEMO_KEY as string),
      body: JSON.stringify({ tenant }),
    });
    expect(await apiKeyRows(tenant)).toEqual([]);
  });
});

describe("POST /admin/keys", () => {
  it("mints a key whose token carries the requested claims, shown once with no-store", async () => {
    const gw = testGateway();
    const tenant = uniqueTenant("acme");
    const res = await gw.fetch(
      "/admin/keys",
      adminJson("POST", {
        tenant,
        name: "ci bot",
        models: ["gpt-4o*", "claude-*"],
        scopes: ["chat"],
        plan: "pro",
        limits: { rpm: 10, tpm: 5000, concurrency: 2, budget_usd_day: 1.5, budget_usd_month: 20 },
        expires_in: "30d",
      }),
    );
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as KeyJson & { key: string };
    const createdAt = new Date(gw.clock.ms).toISOString();
    expect(body).toEqual({
      id: expect.any(String),
      object: "api_key",
      key: expect.stringMatching(/^sk-sluice-[\w-]+\.[\w-]+\.[\w-]+$/),
      tenant,
      name: "ci bot",
      models: ["gpt-4o*", "claude-*"],
      scopes: ["chat"],
      plan: "pro",
      limits: { rpm: 10, tpm: 5000, concurrency: 2, budget_usd_day: 1.5, budget_usd_month: 20 },
      signing_kid: "test-1",
      created_at: createdAt,
      expires_at: new Date((Math.floor(gw.clock.ms / 1000) + 30 * DAY) * 1000).toISOString(),
      revoked_at: null,
      rotated_from: null,
      grace_ends_at: null,
    });

    const { header, claims } = inspectKey(body.key);
    expect(header).toMatchObject({ alg: "EdDSA", kid: "test-1" });
    expect(claims).toMatchObject({
      iss: gw.services.config.issuer,
      aud: gw.services.config.audience,
      sub: tenant,
      jti: body.id,
      name: "ci bot",
      models: ["gpt-4o*", "claude-*"],
      scopes: ["chat"],
      plan: "pro",
      limits: { rpm: 10, tpm: 5000, concurrency: 2, budget_usd_day: 1.5, budget_usd_month: 20 },
    });
    expect((claims.exp as number) - (claims.iat as number)).toBe(30 * DAY);
  });

  it("defaults to every model and scope, no plan, no limits and no expiry", async () => {
    const key = await createKey(callWorker);
    expect(key).toMatchObject({
      models: ["*"],
      scopes: ["*"],
      plan: null,
      limits: {},
      name: null,
      expires_at: null,
    });
    expect(inspectKey(key.key).claims.exp).toBeUndefined();
  });

  it("takes expires_in as seconds too", async () => {
    const key = await createKey(callWorker, { expires_in: 3600 });
    const { claims } = inspectKey(key.key);
    expect((claims.exp as number) - (claims.iat as number)).toBe(3600);
  });

  it("stores the metadata, never the token", async () => {
    const key = await createKey(callWorker, { name: "stored", models: ["gpt-4.1"], expires_in: "1h" });
    const rows = await apiKeyRows(key.tenant);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: key.id,
      tenant: key.tenant,
      name: "stored",
      models: ["gpt-4.1"],
      scopes: ["*"],
      signing_kid: "test-1",
      revoked_at: null,
      rotated_from: null,
      grace_ends_at: null,
    });
    const stored = JSON.stringify(rows);
    const [, payload, signature] = key.key.slice(KEY_PREFIX.length).split(".");
    expect(stored).not.toContain(key.key.slice(KEY_PREFIX.length));
    expect(stored).not.toContain(payload);
    expect(stored).not.toContain(signature);
  });

  const invalid: [string, Record<string, unknown>, string | null, string][] = [
    ["a missing tenant", {}, "tenant", "invalid_value"],
    ["a tenant with spaces", { tenant: "a b" }, "tenant", "invalid_value"],
    ["an unknown plan", { tenant: "x", plan: "platinum" }, "plan", "unknown_plan"],
    ["a negative limit", { tenant: "x", limits: { rpm: -1 } }, "limits.rpm", "invalid_value"],
    ["an unknown limit", { tenant: "x", limits: { rps: 1 } }, "limits.rps", "unknown_parameter"],
    ["an unknown field", { tenant: "x", owner: "me" }, "owner", "unknown_parameter"],
    ["models that are not a list", { tenant: "x", models: "gpt-4o" }, "models", "invalid_value"],
    ["an unreadable expires_in", { tenant: "x", expires_in: "forever" }, "expires_in", "invalid_value"],
    ["a zero expires_in", { tenant: "x", expires_in: 0 }, "expires_in", "invalid_value"],
    ["a fractional expires_in", { tenant: "x", expires_in: 1.5 }, "expires_in", "invalid_value"],
    ["an expires_in beyond ten years", { tenant: "x", expires_in: "600w" }, "expires_in", "invalid_value"],
    ["a keyId from outside", { tenant: "x", keyId: "chosen" }, "keyId", "unknown_parameter"],
  ];
  for (const [what, body, param, code] of invalid) {
    it(`refuses ${what} with a 400 naming the param`, async () => {
      const res = await callWorker("/admin/keys", adminJson("POST", body));
      expect(res.status).toBe(400);
      const error = await errorOf(res);
      expect(error).toMatchObject({ type: "invalid_request_error", param, code });
      if (param) expect(error.message).toContain(param);
    });
  }

  it("names the known plans when the plan is unknown", async () => {
    const res = await callWorker("/admin/keys", adminJson("POST", { tenant: "x", plan: "platinum" }));
    expect((await errorOf(res)).message).toBe("Unknown plan 'platinum'. Known plans: free, pro, enterprise.");
  });

  it("refuses a body that is not JSON, or not an object", async () => {
    for (const body of ["{not json", "[1,2]", '"tenant"']) {
      const res = await callWorker("/admin/keys", { method: "POST", headers: ADMIN, body });
      expect(res.status, body).toBe(400);
      expect((await errorOf(res)).code).toBe("invalid_json");
    }
  });

  it("answers 503 when no signing key is configured", async () => {
    const gw = testGateway({ env: { SLUICE_SIGNING_KEY: "" } });
    const tenant = uniqueTenant();
    const res = await gw.fetch("/admin/keys", adminJson("POST", { tenant }));
    expect(res.status).toBe(503);
    expect(await errorOf(res)).toMatchObject({ type: "server_error", code: "signing_key_missing" });
    expect(await apiKeyRows(tenant)).toEqual([]);
  });

  it("refuses to mint with a signing key whose kid is not published in the JWKS", async () => {
    const unpublished = await generateSigningKey("unpublished");
    const gw = testGateway({ env: { SLUICE_SIGNING_KEY: JSON.stringify(unpublished.privateJwk) } });
    const res = await gw.fetch("/admin/keys", adminJson("POST", { tenant: uniqueTenant() }));
    expect(res.status).toBe(500);
    const error = await errorOf(res);
    expect(error.code).toBe("signing_key_unpublished");
    expect(error.message).not.toContain(unpublished.privateJwk.d as string);
  });

  it("answers 500 without details for a signing key that is not a key", async () => {
    const gw = testGateway({ env: { SLUICE_SIGNING_KEY: '{"kty":"OKP","d":"c2VjcmV0"}' } });
    const res = await gw.fetch("/admin/keys", adminJson("POST", { tenant: uniqueTenant() }));
    expect(res.status).toBe(500);
    const error = await errorOf(res);
    expect(error.code).toBe("signing_key_invalid");
    expect(error.message).not.toContain("c2VjcmV0");
  });
});

describe("GET /admin/keys", () => {
  it("lists a tenant's keys newest first, metadata only", async () => {
    const gw = testGateway();
    const tenant = uniqueTenant();
    const first = await createKey(gw.fetch, { tenant, name: "first" });
    gw.clock.ms += 1000;
    const second = await createKey(gw.fetch, { tenant, name: "second" });
    await createKey(gw.fetch, { name: "another tenant" });

    const res = await gw.fetch(`/admin/keys?tenant=${tenant}`, { headers: ADMIN });
    expect(res.status).toBe(200);
    const text = await res.text();
    const body = JSON.parse(text) as { object: string; data: KeyJson[]; has_more: boolean };
    expect(body.object).toBe("list");
    expect(body.has_more).toBe(false);
    expect(body.data.map((k) => k.id)).toEqual([second.id, first.id]);
    expect(body.data[0]).toEqual((({ key: _key, ...rest }) => rest)(second));
    for (const key of [first, second]) expect(text).not.toContain(key.key.slice(KEY_PREFIX.length));
    expect(text).not.toContain('"key"');
  });

  it("pages with limit and has_more", async () => {
    const gw = testGateway();
    const tenant = uniqueTenant();
    for (let i = 0; i < 3; i++) {
      await createKey(gw.fetch, { tenant });
      gw.clock.ms += 1000;
    }
    const res = await gw.fetch(`/admin/keys?tenant=${tenant}&limit=2`, { headers: ADMIN });
    const body = (await res.json()) as { data: KeyJson[]; has_more: boolean };
    expect(body.data).toHaveLength(2);
    expect(body.has_more).toBe(true);
  });

  it("refuses bad query params with a 400 naming them", async () => {
    for (const [query, param] of [
      ["limit=0", "limit"],
      ["limit=abc", "limit"],
      ["tenant=", "tenant"],
      ["colour=red", "colour"],
    ]) {
      const res = await callWorker(`/admin/keys?${query}`, { headers: ADMIN });
      expect(res.status, query).toBe(400);
      expect((await errorOf(res)).param, query).toBe(param);
    }
  });
});

describe("GET /admin/keys/{id}", () => {
  it("shows one key's metadata", async () => {
    const key = await createKey(callWorker, { name: "one" });
    const res = await callWorker(`/admin/keys/${key.id}`, { headers: ADMIN });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual((({ key: _key, ...rest }) => rest)(key));
  });

  it("answers an OpenAI-shaped 404 for an unknown id, without echoing it", async () => {
    const res = await callWorker("/admin/keys/no-such-key", { headers: ADMIN });
    expect(res.status).toBe(404);
    const error = await errorOf(res);
    expect(error).toEqual({
      type: "invalid_request_error",
      code: "key_not_found",
      param: null,
      message: "No API key with that id.",
    });
  });
});

describe("DELETE /admin/keys/{id}", () => {
  it("marks the row revoked and writes the Redis marker, living as long as the key", async () => {
    const gw = testGateway();
    const key = await createKey(gw.fetch, { expires_in: "1h" });
    gw.clock.ms += 5000;
    const res = await gw.fetch(`/admin/keys/${key.id}`, { method: "DELETE", headers: ADMIN });
    expect(res.status).toBe(200);
    const body = (await res.json()) as KeyJson;
    expect(body).toMatchObject({ id: key.id, revoked_at: new Date(gw.clock.ms).toISOString() });
    expect(JSON.stringify(body)).not.toContain(key.key.slice(KEY_PREFIX.length));

    const [row] = await apiKeyRows(key.tenant);
    expect(row?.revoked_at).not.toBeNull();
    const redis = testRedis();
    expect(await redis.get(revokedKeyName(key.id))).toBe(0);
    // The marker outlives the key by a minute (the verifier's clock tolerance), then goes.
    const expireTime = await redis.eval(
      "return redis.call('PEXPIRETIME', KEYS[1])",
      [revokedKeyName(key.id)],
      [],
    );
    expect(expireTime).toBe(Date.parse(key.expires_at as string) + 60_000);
  });

  it("gives a key without expiry a marker without TTL", async () => {
    const key = await createKey(callWorker);
    await callWorker(`/admin/keys/${key.id}`, { method: "DELETE", headers: ADMIN });
    expect(await testRedis().pttl(revokedKeyName(key.id))).toBe(-1);
  });

  it("is idempotent: a second DELETE keeps the first revocation time", async () => {
    const gw = testGateway();
    const key = await createKey(gw.fetch);
    const first = (await (
      await gw.fetch(`/admin/keys/${key.id}`, { method: "DELETE", headers: ADMIN })
    ).json()) as KeyJson;
    gw.clock.ms += 60_000;
    const res = await gw.fetch(`/admin/keys/${key.id}`, { method: "DELETE", headers: ADMIN });
    expect(res.status).toBe(200);
    expect(((await res.json()) as KeyJson).revoked_at).toBe(first.revoked_at);
  });

  it("answers 404 for an unknown id and writes nothing", async () => {
    const res = await callWorker("/admin/keys/no-such-key", { method: "DELETE", headers: ADMIN });
    expect(res.status).toBe(404);
    expect(await testRedis().exists(revokedKeyName("no-such-key"))).toBe(0);
  });
});

describe("POST /admin/keys/{id}/rotate", () => {
  it("returns a successor with the same claims and a new id; the old key gets its grace end", async () => {
    const gw = testGateway();
    const old = await createKey(gw.fetch, {
      name: "rotating",
      models: ["gpt-4o*"],
      scopes: ["chat"],
      plan: "pro",
      limits: { rpm: 7 },
      expires_in: "30d",
    });
    gw.clock.ms += 10_000;
    const res = await gw.fetch(`/admin/keys/${old.id}/rotate`, adminJson("POST", { grace_seconds: 600 }));
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const successor = (await res.json()) as KeyJson & { key: string };
    expect(successor.id).not.toBe(old.id);
    expect(successor.key).not.toBe(old.key);
    expect(successor).toMatchObject({
      tenant: old.tenant,
      name: "rotating",
      models: ["gpt-4o*"],
      scopes: ["chat"],
      plan: "pro",
      limits: { rpm: 7 },
      rotated_from: old.id,
      grace_ends_at: null,
      revoked_at: null,
      created_at: new Date(gw.clock.ms).toISOString(),
    });
    // Same lifetime as the old key, counted from now.
    const claims = inspectKey(successor.key).claims;
    expect((claims.exp as number) - (claims.iat as number)).toBe(30 * DAY);
    expect(claims).toMatchObject({ sub: old.tenant, jti: successor.id, models: ["gpt-4o*"], plan: "pro" });

    const graceEnd = gw.clock.ms + 600_000;
    const oldNow = (await (await gw.fetch(`/admin/keys/${old.id}`, { headers: ADMIN })).json()) as KeyJson;
    expect(oldNow).toMatchObject({ revoked_at: null, grace_ends_at: new Date(graceEnd).toISOString() });
    expect(await testRedis().get(revokedKeyName(old.id))).toBe(graceEnd);
    expect(await testRedis().exists(revokedKeyName(successor.id))).toBe(0);

    const rows = await apiKeyRows(old.tenant);
    expect(rows.map((r) => r.id).sort()).toEqual([old.id, successor.id].sort());
    const stored = JSON.stringify(rows);
    for (const token of [old.key, successor.key])
      expect(stored).not.toContain(token.slice(KEY_PREFIX.length));
  });

  it("defaults to a day of grace, with no body at all", async () => {
    const gw = testGateway();
    const old = await createKey(gw.fetch);
    const res = await gw.fetch(`/admin/keys/${old.id}/rotate`, { method: "POST", headers: ADMIN });
    expect(res.status).toBe(201);
    expect(await testRedis().get(revokedKeyName(old.id))).toBe(gw.clock.ms + DAY * 1000);
    expect(inspectKey(((await res.json()) as { key: string }).key).claims.exp).toBeUndefined();
  });

  it("can set the successor's own lifetime", async () => {
    const old = await createKey(callWorker, { expires_in: "30d" });
    const res = await callWorker(`/admin/keys/${old.id}/rotate`, adminJson("POST", { expires_in: "1h" }));
    const { claims } = inspectKey(((await res.json()) as { key: string }).key);
    expect((claims.exp as number) - (claims.iat as number)).toBe(3600);
  });

  it("refuses to rotate a revoked key, or a key twice (409), leaving no stray successor", async () => {
    const revoked = await createKey(callWorker);
    await callWorker(`/admin/keys/${revoked.id}`, { method: "DELETE", headers: ADMIN });
    const res = await callWorker(`/admin/keys/${revoked.id}/rotate`, adminJson("POST", {}));
    expect(res.status).toBe(409);
    expect((await errorOf(res)).code).toBe("key_revoked");
    expect(await apiKeyRows(revoked.tenant)).toHaveLength(1);

    const rotated = await createKey(callWorker);
    expect((await callWorker(`/admin/keys/${rotated.id}/rotate`, adminJson("POST", {}))).status).toBe(201);
    const again = await callWorker(`/admin/keys/${rotated.id}/rotate`, adminJson("POST", {}));
    expect(again.status).toBe(409);
    expect((await errorOf(again)).code).toBe("key_already_rotated");
    expect(await apiKeyRows(rotated.tenant)).toHaveLength(2);
  });

  it("a revocation during the grace takes effect at once and is not lifted", async () => {
    const gw = testGateway();
    const old = await createKey(gw.fetch);
    await gw.fetch(`/admin/keys/${old.id}/rotate`, adminJson("POST", { grace_seconds: 3600 }));
    await gw.fetch(`/admin/keys/${old.id}`, { method: "DELETE", headers: ADMIN });
    expect(await testRedis().get(revokedKeyName(old.id))).toBe(0);
  });

  it("validates grace_seconds", async () => {
    const key = await createKey(callWorker);
    for (const grace_seconds of [-1, 1.5, "1d", 366 * DAY]) {
      const res = await callWorker(`/admin/keys/${key.id}/rotate`, adminJson("POST", { grace_seconds }));
      expect(res.status, String(grace_seconds)).toBe(400);
      expect((await errorOf(res)).param).toBe("grace_seconds");
    }
    expect(await apiKeyRows(key.tenant)).toHaveLength(1);
  });

  it("answers 404 for an unknown id", async () => {
    const res = await callWorker("/admin/keys/no-such-key/rotate", adminJson("POST", {}));
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe("key_not_found");
  });
});

describe("when Redis refuses the write", () => {
  it("DELETE and rotate answer 503 and change nothing, so a retry can finish the job", async () => {
    const tenant = uniqueTenant();
    const healthy = testGateway();
    const revokeMe = await createKey(healthy.fetch, { tenant });
    const rotateMe = await createKey(healthy.fetch, { tenant });

    // A wrong token makes the bridge refuse every command: Redis is as good as gone for this gateway.
    const logged: unknown[] = [];
    const cutOff = testGateway({
      env: { UPSTASH_REDIS_REST_TOKEN: "not-the-token" },
      overrides: { log: (level, message, fields) => logged.push({ level, message, ...fields }) },
    });
    const [revoke, rotate] = await Promise.all([
      cutOff.fetch(`/admin/keys/${revokeMe.id}`, { method: "DELETE", headers: ADMIN }),
      cutOff.fetch(`/admin/keys/${rotateMe.id}/rotate`, adminJson("POST", {})),
    ]);
    for (const res of [revoke, rotate]) {
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("1");
      expect(await errorOf(res)).toMatchObject({ type: "server_error", code: "revocation_unavailable" });
    }
    expect(logged).toEqual(
      expect.arrayContaining([
        { level: "error", message: "could not store key revocation", keyId: revokeMe.id },
        { level: "error", message: "could not store key revocation", keyId: rotateMe.id },
      ]),
    );
    const rows = await apiKeyRows(tenant);
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatchObject({ revoked_at: null, grace_ends_at: null });

    const retried = await healthy.fetch(`/admin/keys/${revokeMe.id}`, { method: "DELETE", headers: ADMIN });
    expect(retried.status).toBe(200);
    expect(await testRedis().get(revokedKeyName(revokeMe.id))).toBe(0);
  });
});
