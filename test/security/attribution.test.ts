import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { importSigningKey, mintKey } from "../../src/auth";
import { callerTags } from "../../src/metering";
import { ADMIN } from "../admin/support";
import { testDb } from "../metering/support";
import { gateway, post } from "../support/gateway";

// Caller attribution (x-sluice-tags, `user`, `metadata`; Anthropic's metadata.user_id) reaches the
// usage row and the CSV export, within bounds: past them the request is refused with a 400 that
// names the header or field, never silently truncated.

const gw = gateway({ routes: { "gpt-4o-mini": { targets: [{ provider: "mock", model: "gpt-4o-mini" }] } } });
const db = testDb();
const messages = [{ role: "user", content: "hello" }];

async function tenantKey(): Promise<{ tenant: string; key: string }> {
  const signer = await importSigningKey(env.SLUICE_SIGNING_KEY);
  const tenant = `tags-${crypto.randomUUID().slice(0, 8)}`;
  const { token } = await mintKey(
    signer,
    { tenant, name: "attribution", plan: "enterprise" },
    { issuer: "sluice", audience: "sluice" },
  );
  return { tenant, key: token };
}

/** The key the bounds tests call with (requests refused for their tags are never counted). */
const { key } = await tenantKey();

async function tagsOf(tenant: string): Promise<unknown[]> {
  const result = await db.execute(sql`select tags from usage_events where tenant = ${tenant}`);
  return result.rows.map((row) => {
    const tags = (row as { tags: unknown }).tags;
    return typeof tags === "string" ? JSON.parse(tags) : tags;
  });
}

/** The fields of one RFC 4180 line (quoted fields may hold commas and doubled quotes). */
function csvFields(line: string): string[] {
  return [...line.matchAll(/(?:^|,)(?:"((?:[^"]|"")*)"|([^,]*))/g)].map((m) =>
    m[1] !== undefined ? m[1].replace(/""/g, '"') : (m[2] ?? ""),
  );
}

async function refusal(response: Response) {
  expect(response.status).toBe(400);
  return ((await response.json()) as { error: { message: string; param: string | null; code: string } })
    .error;
}

describe("caller attribution reaches the usage row and the export", () => {
  it("records tags from the header, user and metadata, the header winning a clash", async () => {
    const { tenant, key: ownKey } = await tenantKey();
    const body = { model: "gpt-4o-mini", messages, user: "u-42", metadata: { team: "ads", run: "7" } };
    const response = await gw.fetch(
      "/v1/chat/completions",
      post(body, ownKey, { "x-sluice-tags": "team=search, env=prod,note=a%2Cb%3Dc" }),
    );
    expect(response.status).toBe(200);
    expect(await tagsOf(tenant)).toEqual([
      { team: "search", env: "prod", note: "a,b=c", run: "7", user: "u-42" },
    ]);

    const csv = await gw.fetch(`/admin/usage/export?format=csv&tenant=${tenant}`, { headers: ADMIN });
    expect(csv.status).toBe(200);
    const [header = "", line = ""] = (await csv.text()).trim().split("\r\n");
    const tagsColumn = csvFields(header).indexOf("tags");
    expect(tagsColumn).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(csvFields(line)[tagsColumn] ?? "null")).toEqual({
      team: "search",
      env: "prod",
      note: "a,b=c",
      run: "7",
      user: "u-42",
    });
  });

  it("records user on embeddings, and Anthropic's metadata.user_id as user on /v1/messages and count_tokens", async () => {
    const { tenant, key: ownKey } = await tenantKey();
    const embedded = await gw.fetch(
      "/v1/embeddings",
      post({ model: "gpt-4o-mini", input: "hi", user: "emb-user" }, ownKey, { "x-sluice-tags": "job=index" }),
    );
    expect(embedded.status).toBe(200);
    const anthropic = await gw.fetch(
      "/v1/messages",
      post({ model: "gpt-4o-mini", max_tokens: 16, messages, metadata: { user_id: "claude-user" } }, ownKey),
    );
    expect(anthropic.status).toBe(200);
    const counted = await gw.fetch(
      "/v1/messages/count_tokens",
      post({ model: "gpt-4o-mini", messages, metadata: { user_id: "counter" } }, ownKey, {
        "x-sluice-tags": "job=count",
      }),
    );
    expect(counted.status).toBe(200);
    const rows = await tagsOf(tenant);
    expect(rows).toContainEqual({ user: "emb-user", job: "index" });
    expect(rows).toContainEqual({ user: "claude-user" });
    expect(rows).toContainEqual({ user: "counter", job: "count" });
  });

  it("stores __proto__, constructor and toString as plain keys, polluting nothing", async () => {
    const { tenant, key: ownKey } = await tenantKey();
    const response = await gw.fetch(
      "/v1/chat/completions",
      post({ model: "gpt-4o-mini", messages, metadata: { constructor: "c" } }, ownKey, {
        "x-sluice-tags": "__proto__=p,toString=t",
      }),
    );
    expect(response.status).toBe(200);
    const [row] = (await tagsOf(tenant)) as Record<string, unknown>[];
    expect(Object.keys(row ?? {}).sort()).toEqual(["__proto__", "constructor", "toString"]);
    expect(Object.getOwnPropertyDescriptor(row, "__proto__")?.value).toBe("p");
    expect(({} as Record<string, unknown>).p).toBeUndefined();

    const tags = callerTags(new Headers({ "x-sluice-tags": "__proto__=p" }), {
      metadata: JSON.parse('{"__proto__":"m"}'),
    });
    expect(Object.getPrototypeOf(tags)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(tags, "__proto__")?.value).toBe("p");
  });
});

describe("attribution bounds answer 400 naming the header or field", () => {
  const chat = (extra: Record<string, unknown>, tags?: string) =>
    gw.fetch(
      "/v1/chat/completions",
      post(
        { model: "gpt-4o-mini", messages, ...extra },
        key,
        tags === undefined ? {} : { "x-sluice-tags": tags },
      ),
    );
  const header = (tags: string) => chat({}, tags);

  it("more than 32 tags in all", async () => {
    const many = Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(",");
    expect(await refusal(await header(many))).toMatchObject({ code: "invalid_tags", param: "x-sluice-tags" });
    // 16 metadata pairs + user + 16 header tags = 33 distinct keys.
    const metadata = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`m${i}`, "v"]));
    const sixteen = Array.from({ length: 16 }, (_, i) => `h${i}=v`).join(",");
    expect(await refusal(await chat({ metadata, user: "u" }, sixteen))).toMatchObject({
      code: "invalid_tags",
    });
    expect((await chat({ metadata }, sixteen)).status).toBe(200);
  });

  it("a tag key that is empty or longer than 64 characters, a value longer than 512", async () => {
    expect(await refusal(await header("=v"))).toMatchObject({ code: "invalid_tags", param: "x-sluice-tags" });
    expect(await refusal(await header(`${"k".repeat(65)}=v`))).toMatchObject({ code: "invalid_tags" });
    expect(await refusal(await header(`k=${"v".repeat(513)}`))).toMatchObject({ code: "invalid_tags" });
    expect((await header(`${"k".repeat(64)}=${"v".repeat(512)}`)).status).toBe(200);
  });

  it("control characters, percent-encoded or raw in the body", async () => {
    expect(await refusal(await header("k=a%00b"))).toMatchObject({
      code: "invalid_tags",
      param: "x-sluice-tags",
    });
    expect(await refusal(await header("k%0A=v"))).toMatchObject({ code: "invalid_tags" });
    expect(await refusal(await chat({ user: "a\u0000b" }))).toMatchObject({ param: "user" });
    expect(await refusal(await chat({ metadata: { k: "line\nbreak" } }))).toMatchObject({
      param: "metadata.k",
    });
    // A lone surrogate cannot be stored in jsonb either.
    expect(await refusal(await chat({ metadata: { k: "\ud800" } }))).toMatchObject({ param: "metadata.k" });
  });

  it("user longer than 256 characters", async () => {
    expect(await refusal(await chat({ user: "u".repeat(257) }))).toMatchObject({
      code: "invalid_value",
      param: "user",
    });
    expect((await chat({ user: "u".repeat(256) })).status).toBe(200);
  });

  it("metadata: at most 16 string pairs, keys up to 64 characters, values up to 512", async () => {
    const pairs = (count: number) =>
      Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, "v"]));
    expect(await refusal(await chat({ metadata: pairs(17) }))).toMatchObject({
      code: "invalid_value",
      param: "metadata",
    });
    expect(await refusal(await chat({ metadata: { ["k".repeat(65)]: "v" } }))).toMatchObject({
      param: "metadata",
    });
    expect(await refusal(await chat({ metadata: { k: "v".repeat(513) } }))).toMatchObject({
      param: "metadata.k",
    });
    expect(await refusal(await chat({ metadata: { k: 1 } }))).toMatchObject({ param: "metadata.k" });
    expect(await refusal(await chat({ metadata: ["a"] }))).toMatchObject({ param: "metadata" });
    expect((await chat({ metadata: pairs(16) })).status).toBe(200);
  });

  it("on embeddings and /v1/messages too (Anthropic-shaped there)", async () => {
    const embeddings = await gw.fetch(
      "/v1/embeddings",
      post({ model: "gpt-4o-mini", input: "hi", metadata: { k: 1 } }, key),
    );
    expect(await refusal(embeddings)).toMatchObject({ param: "metadata.k" });
    const anthropic = await gw.fetch(
      "/v1/messages",
      post({ model: "gpt-4o-mini", max_tokens: 16, messages, metadata: { user_id: "u".repeat(257) } }, key),
    );
    expect(anthropic.status).toBe(400);
    expect(await anthropic.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
  });
});
