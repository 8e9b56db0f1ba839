import { beforeAll, describe, expect, it } from "vitest";
import { post } from "../support/gateway";
import { responsesGateway, tenantKey } from "./support";

// Conversation state: stored responses (store not false) are read back, listed, continued and
// deleted by their own tenant only; every other tenant gets the same 404 as for an id never made.

const gw = responsesGateway();
let a: { token: string; tenant: string };
let b: { token: string; tenant: string };

const auth = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

beforeAll(async () => {
  [a, b] = await Promise.all([tenantKey(), tenantKey()]);
});

async function create(token: string, body: Record<string, unknown>) {
  const response = await gw.fetch("/v1/responses", post(body, token));
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown> & { id: string };
}

describe.each(["gpt-4o-mini", "claude-sonnet-4-5"])("stored responses on %s", (model) => {
  it("reads back, lists input items and deletes a response of the caller's tenant", async () => {
    const created = await create(a.token, { model, input: "Remember me" });
    const read = await gw.fetch(`/v1/responses/${created.id}`, auth(a.token));
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual(created);

    const items = await gw.fetch(`/v1/responses/${created.id}/input_items?order=asc`, auth(a.token));
    const list = (await items.json()) as { object: string; data: { type: string; role: string }[] };
    expect(list.object).toBe("list");
    expect(list.data).toMatchObject([{ type: "message", role: "user" }]);

    const deleted = await gw.fetch(`/v1/responses/${created.id}`, { method: "DELETE", ...auth(a.token) });
    expect(await deleted.json()).toEqual({ id: created.id, object: "response", deleted: true });
    expect((await gw.fetch(`/v1/responses/${created.id}`, auth(a.token))).status).toBe(404);
  });

  it("is 404 for another tenant: read, list, delete and previous_response_id", async () => {
    const created = await create(a.token, { model, input: "Tenant A's secret" });
    for (const path of [`/v1/responses/${created.id}`, `/v1/responses/${created.id}/input_items`]) {
      const response = await gw.fetch(path, auth(b.token));
      expect(response.status, path).toBe(404);
      expect(JSON.stringify(await response.json())).not.toContain("secret");
    }
    const deleted = await gw.fetch(`/v1/responses/${created.id}`, { method: "DELETE", ...auth(b.token) });
    expect(deleted.status).toBe(404);
    const continued = await gw.fetch(
      "/v1/responses",
      post({ model, previous_response_id: created.id, input: "And?" }, b.token),
    );
    expect(continued.status).toBe(404);
    expect(((await continued.json()) as { error: { code: string } }).error.code).toBe(
      "previous_response_not_found",
    );
    // Still there for its own tenant.
    expect((await gw.fetch(`/v1/responses/${created.id}`, auth(a.token))).status).toBe(200);
  });

  it("stores a streamed response once it completed, and continues from it", async () => {
    const streamed = await gw.fetch(
      "/v1/responses",
      post({ model, input: "Stream and store", stream: true }, a.token),
    );
    const completed = (await streamed.text())
      .split("\n\n")
      .find((frame) => frame.startsWith("event: response.completed"));
    const final = JSON.parse(completed?.split("data: ")[1] ?? "null") as {
      response: { id: string; usage: { cost: number } };
    };
    expect(final.response.usage.cost).toBeGreaterThan(0);
    const read = (await (
      await gw.fetch(`/v1/responses/${final.response.id}`, auth(a.token))
    ).json()) as Record<string, unknown>;
    expect(read).toEqual(final.response);
    const next = await create(a.token, { model, previous_response_id: final.response.id, input: "More" });
    const items = await gw.fetch(`/v1/responses/${next.id}/input_items?order=asc`, auth(a.token));
    const list = (await items.json()) as { data: { type: string; role: string }[] };
    // The first turn's input and output, then this turn's input.
    expect(list.data.map((item) => `${item.type}:${item.role}`)).toEqual([
      "message:user",
      "message:assistant",
      "message:user",
    ]);
  });

  it("keeps nothing with store: false", async () => {
    const created = await create(a.token, { model, input: "Forget me", store: false });
    expect(created.store).toBe(false);
    expect((await gw.fetch(`/v1/responses/${created.id}`, auth(a.token))).status).toBe(404);
  });
});

describe("ids", () => {
  it("answers 404 without a query for ids that are not the gateway's", async () => {
    for (const id of ["resp_123", "constructor", "resp_' or 1=1 --", "x".repeat(5000)]) {
      const response = await gw.fetch(`/v1/responses/${encodeURIComponent(id)}`, auth(a.token));
      expect(response.status, id).toBe(404);
    }
  });
});
