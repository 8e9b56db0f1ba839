import { describe, expect, it } from "vitest";
import {
  ADMIN,
  adminJson,
  bearer,
  callWorker,
  chat,
  createKey,
  type ErrorJson,
  type KeyJson,
  testGateway,
} from "../admin/support";

/**
 * The acceptance, end to end through the HTTP API: a key minted by the admin API works,
 * a revoked key is refused on the very next request, a rotated key works until its grace ends.
 */

async function expectInvalidKey(res: Response, what: string): Promise<void> {
  expect(res.status, what).toBe(401);
  const body = (await res.json()) as ErrorJson;
  expect(body.error, what).toMatchObject({
    type: "authentication_error",
    code: "invalid_api_key",
    param: null,
  });
}

const models = (key: string): RequestInit => ({ headers: bearer(key) });

describe("mint → call", () => {
  it("a freshly minted key lists models, with Authorization or x-api-key", async () => {
    const { key } = await createKey(callWorker, { models: ["gpt-4o*"] });
    const res = await callWorker("/v1/models", models(key));
    expect(res.status).toBe(200);
    // The dev config's routes that match the glob, and no other.
    expect(((await res.json()) as { data: { id: string }[] }).data.map((m) => m.id)).toEqual([
      "gpt-4o-mini",
      "gpt-4o-mini-passthrough",
    ]);
    expect((await callWorker("/v1/models/gpt-4o-mini", { headers: { "x-api-key": key } })).status).toBe(200);
  });

  it("a freshly minted key gets a chat completion", async () => {
    const { key } = await createKey(callWorker);
    const res = await callWorker("/v1/chat/completions", chat(key));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ object: "chat.completion", model: "gpt-4o-mini" });
  });
});

describe("a model outside the key's allowlist", () => {
  it("is refused with 403 on chat, before any upstream call", async () => {
    const { key } = await createKey(callWorker, { models: ["gpt-4o*"] });
    const res = await callWorker("/v1/chat/completions", chat(key, "gpt-4.1"));
    expect(res.status).toBe(403);
    expect(((await res.json()) as ErrorJson).error).toMatchObject({
      type: "permission_error",
      code: "model_not_allowed",
    });
  });

  it("is invisible in /v1/models: 404 model_not_found, as OpenAI answers for a model you cannot use", async () => {
    const { key } = await createKey(callWorker, { models: ["gpt-4o*"] });
    const res = await callWorker("/v1/models/gpt-4.1", models(key));
    expect(res.status).toBe(404);
    expect(((await res.json()) as ErrorJson).error.code).toBe("model_not_found");
  });
});

describe("revoke → 401 on the next request", () => {
  it("on /v1/models, although the key is already in the verifier's cache", async () => {
    const created = await createKey(callWorker);
    expect((await callWorker("/v1/models", models(created.key))).status).toBe(200);
    const revoked = await callWorker(`/admin/keys/${created.id}`, { method: "DELETE", headers: ADMIN });
    expect(revoked.status).toBe(200);
    await expectInvalidKey(await callWorker("/v1/models", models(created.key)), "GET /v1/models");
    await expectInvalidKey(
      await callWorker("/v1/models/gpt-4o-mini", models(created.key)),
      "GET /v1/models/{id}",
    );
  });

  it("on /v1/chat/completions", async () => {
    const created = await createKey(callWorker);
    expect((await callWorker("/v1/chat/completions", chat(created.key))).status).toBe(200);
    await callWorker(`/admin/keys/${created.id}`, { method: "DELETE", headers: ADMIN });
    await expectInvalidKey(await callWorker("/v1/chat/completions", chat(created.key)), "chat");
  });

  it("leaves the tenant's other keys working", async () => {
    const first = await createKey(callWorker);
    const second = await createKey(callWorker, { tenant: first.tenant });
    await callWorker(`/admin/keys/${first.id}`, { method: "DELETE", headers: ADMIN });
    expect((await callWorker("/v1/models", models(second.key))).status).toBe(200);
  });
});

describe("rotate → both keys work until the grace ends, then the old one gets 401", () => {
  async function rotated(graceSeconds: number) {
    const gw = testGateway();
    const old = await createKey(gw.fetch);
    const res = await gw.fetch(
      `/admin/keys/${old.id}/rotate`,
      adminJson("POST", { grace_seconds: graceSeconds }),
    );
    expect(res.status).toBe(201);
    const successor = (await res.json()) as KeyJson & { key: string };
    return { gw, old: old.key, successor: successor.key };
  }

  it("on /v1/models", async () => {
    const { gw, old, successor } = await rotated(60);
    expect((await gw.fetch("/v1/models", models(old))).status).toBe(200);
    expect((await gw.fetch("/v1/models", models(successor))).status).toBe(200);
    gw.clock.ms += 59_999;
    expect((await gw.fetch("/v1/models", models(old))).status).toBe(200);
    gw.clock.ms += 1;
    await expectInvalidKey(await gw.fetch("/v1/models", models(old)), "old key after the grace");
    expect((await gw.fetch("/v1/models", models(successor))).status).toBe(200);
  });

  it("on /v1/chat/completions", async () => {
    const { gw, old, successor } = await rotated(60);
    expect((await gw.fetch("/v1/chat/completions", chat(old))).status).toBe(200);
    expect((await gw.fetch("/v1/chat/completions", chat(successor))).status).toBe(200);
    gw.clock.ms += 59_999;
    expect((await gw.fetch("/v1/chat/completions", chat(old))).status).toBe(200);
    gw.clock.ms += 1;
    await expectInvalidKey(await gw.fetch("/v1/chat/completions", chat(old)), "old key after the grace");
    expect((await gw.fetch("/v1/chat/completions", chat(successor))).status).toBe(200);
  });

  it("a zero grace refuses the old key at once", async () => {
    const { gw, old, successor } = await rotated(0);
    await expectInvalidKey(await gw.fetch("/v1/models", models(old)), "old key");
    expect((await gw.fetch("/v1/models", models(successor))).status).toBe(200);
  });
});
