import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { toUsageRow } from "../../src/metering";
import { insertUsageRows } from "../../src/metering/insert";
import { ADMIN, adminJson, apiKeyRows, callWorker, createKey, type KeyJson, testDb } from "../admin/support";
import { makeRecord, uniqueTenant } from "../metering/support";

/**
 * SQL injection through the admin API held in issue 10's adversarial run; these keep it holding.
 * Every filter, the listing's cursor and every key field reach Postgres only as bound parameters:
 * an injected value is a 400 (when no such value can exist) or matches exactly the rows holding
 * that very text, never another tenant's, and the tables are still there afterwards.
 */

const db = testDb();
const DAY = 86_400_000;
// A far-future window no other test writes to, different on every run.
const start = Date.UTC(2300 + Math.floor(Math.random() * 700), Math.floor(Math.random() * 12), 1);
const window = `from=${new Date(start).toISOString()}&to=${new Date(start + DAY).toISOString()}`;
const victim = uniqueTenant("victim");
const attacker = uniqueTenant("attacker");
const VICTIM_ROWS = 6;

const INJECTIONS = [
  "' OR 1=1 --",
  "' OR '1'='1",
  "'OR'1'='1'--",
  '"; DROP TABLE usage_events; --',
  "x'; DROP TABLE usage_events; --",
  "1) OR (1=1",
  "%' OR tenant LIKE '%",
  "%",
  "_",
  "*",
  "' UNION SELECT * FROM api_keys --",
  "'; SELECT pg_sleep(10); --",
  "$1",
  "$$; DROP TABLE api_keys; $$",
  "\\'; DROP TABLE usage_events; --",
  `${"'".repeat(200)}`,
];
/** A value an attacker's own requests could have stored (a requested model is the caller's text). */
const STORED = "gpt'); DROP TABLE usage_events; --";

beforeAll(async () => {
  const rows = [
    ...Array.from({ length: VICTIM_ROWS }, (_, i) =>
      makeRecord({ tenant: victim, keyId: "victim-key", createdAt: new Date(start + i * 1_000) }),
    ),
    makeRecord({
      tenant: attacker,
      keyId: "attacker-key",
      requestedModel: STORED,
      provider: STORED,
      createdAt: new Date(start + 10_000),
    }),
  ];
  await insertUsageRows(
    db,
    rows.map((record) => toUsageRow(record, { picoUsd: 1_000n })),
  );
});

const get = (path: string) => callWorker(path, { headers: ADMIN });
const q = encodeURIComponent;

/** The tenants of the rows an admin usage route answered with (an aggregate, a listing or an export). */
async function tenantsIn(route: string, res: Response): Promise<string[]> {
  if (route.endsWith("/export")) {
    const [header, ...lines] = (await res.text()).split("\r\n").filter(Boolean);
    const col = (header as string).split(",").indexOf("tenant");
    return lines.map((line) => line.split(",")[col] as string);
  }
  const body = (await res.json()) as { data: { tenant?: string; requests?: number }[] };
  if (route.endsWith("/requests")) return body.data.map((row) => row.tenant as string);
  // Aggregates grouped by tenant: one entry per tenant with at least one matching row.
  return body.data.map((group) => group.tenant as string);
}

describe("SQL injection through the usage API", () => {
  const routes = ["/admin/usage", "/admin/usage/export", "/admin/usage/requests"];

  it("every filter: a 400, or no row at all", async () => {
    for (const route of routes) {
      for (const filter of ["tenant", "key_id", "model", "provider"]) {
        for (const value of INJECTIONS) {
          const res = await get(`${route}?${window}&group_by=tenant&${filter}=${q(value)}`);
          const where = `${route} ${filter}=${value}`;
          expect([200, 400], where).toContain(res.status);
          if (res.status === 200) expect(await tenantsIn(route, res), where).toEqual([]);
          else await res.body?.cancel();
        }
      }
    }
  });

  it("an injected filter beside the attacker's own tenant never reaches the victim's rows", async () => {
    for (const route of routes) {
      for (const filter of ["model", "provider", "key_id"]) {
        for (const value of INJECTIONS) {
          const res = await get(
            `${route}?${window}&group_by=tenant&tenant=${attacker}&${filter}=${q(value)}`,
          );
          const where = `${route} ${filter}=${value}`;
          expect([200, 400], where).toContain(res.status);
          if (res.status === 200) expect(await tenantsIn(route, res), where).not.toContain(victim);
          else await res.body?.cancel();
        }
      }
    }
  });

  it("stored SQL is plain text: it matches exactly the row that holds it", async () => {
    for (const route of routes) {
      for (const filter of ["model", "provider"]) {
        const res = await get(`${route}?${window}&group_by=tenant&${filter}=${q(STORED)}`);
        expect(res.status).toBe(200);
        expect(await tenantsIn(route, res)).toEqual([attacker]);
      }
    }
  });

  it("group_by and the cursor take no SQL", async () => {
    for (const groupBy of ["tenant;DROP TABLE usage_events", "tenant) --", "1", "tenant,(select 1)"]) {
      const res = await get(`/admin/usage?${window}&group_by=${q(groupBy)}`);
      expect(res.status, groupBy).toBe(400);
    }
    const time = new Date(start + DAY - 1).toISOString().replace("Z", "000Z");
    for (const id of INJECTIONS) {
      const cursor = btoa(JSON.stringify([time, id]))
        .replace(/\+/g, "-")
        .replace(/\//g, "_")
        .replace(/=+$/, "");
      const res = await get(`/admin/usage/requests?${window}&tenant=${attacker}&cursor=${cursor}`);
      expect([200, 400], id).toContain(res.status);
      if (res.status === 200) expect(await tenantsIn("/admin/usage/requests", res)).toEqual([attacker]);
    }
  });
});

describe("SQL injection through the key API", () => {
  it("key ids in paths: 404, nothing revoked", async () => {
    const key = await createKey(callWorker);
    for (const id of INJECTIONS) {
      for (const method of ["GET", "DELETE"]) {
        const res = await callWorker(`/admin/keys/${q(id)}`, { method, headers: ADMIN });
        expect(res.status, `${method} ${id}`).toBe(404);
      }
    }
    const [row] = await apiKeyRows(key.tenant);
    expect(row).toMatchObject({ revoked_at: null });
  });

  it("the listing's tenant filter: a 400, or only that exact tenant's keys", async () => {
    await createKey(callWorker);
    for (const tenant of INJECTIONS) {
      const res = await get(`/admin/keys?tenant=${q(tenant)}`);
      expect([200, 400], tenant).toContain(res.status);
      if (res.status === 200) {
        const { data } = (await res.json()) as { data: KeyJson[] };
        expect(data, tenant).toEqual([]);
      } else await res.body?.cancel();
    }
  });

  it("names, scopes and globs full of SQL are stored as written", async () => {
    const text = INJECTIONS.slice(0, 5);
    const tenant = `${uniqueTenant("sqli")}'OR'1'='1`;
    const res = await callWorker(
      "/admin/keys",
      adminJson("POST", { tenant, name: text.join(" "), scopes: text, models: text }),
    );
    expect(res.status).toBe(201);
    const key = (await res.json()) as KeyJson;
    expect(key).toMatchObject({ tenant, name: text.join(" "), scopes: text, models: text });
    const listed = await get(`/admin/keys?tenant=${q(tenant)}`);
    expect(((await listed.json()) as { data: KeyJson[] }).data.map((k) => k.id)).toEqual([key.id]);
  });
});

describe("afterwards", () => {
  it("both tables are still there with every row", async () => {
    const counts = await db.execute(
      sql`select tenant, count(*)::int as n from usage_events where tenant in (${victim}, ${attacker}) group by tenant`,
    );
    const byTenant = Object.fromEntries(
      (counts.rows as { tenant: string; n: number }[]).map((r) => [r.tenant, Number(r.n)]),
    );
    expect(byTenant).toEqual({ [victim]: VICTIM_ROWS, [attacker]: 1 });
    const keys = await db.execute(sql`select count(*)::int as n from api_keys`);
    expect(Number((keys.rows[0] as { n: number }).n)).toBeGreaterThan(0);
  });
});
