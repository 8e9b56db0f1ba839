import { beforeAll, describe, expect, it } from "vitest";
import { usageRoutes } from "../../src/admin/usage";
import { usageCsvStream } from "../../src/admin/usage-csv";
import { formatUsd, parseUsd, toUsageRow, type UsageRow } from "../../src/metering";
import { insertUsageRows } from "../../src/metering/insert";
import { makeRecord, testDb, uniqueTenant } from "./support";

const db = testDb();
const app = usageRoutes({ db: async () => db });

// A window in the far future that no other test writes to, different on every run.
const DAY = 86_400_000;
const start = Date.UTC(2100 + Math.floor(Math.random() * 700), Math.floor(Math.random() * 12), 1);
const from = new Date(start).toISOString();
const to = new Date(start + 3 * DAY).toISOString();
const tenants = [uniqueTenant("acme"), uniqueTenant("globex")];
const window = `from=${from}&to=${to}`;

/** Deterministic pseudo-random numbers, so a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    return s / 2_147_483_648;
  };
}

const rows: UsageRow[] = [];

beforeAll(async () => {
  const rand = rng(42);
  const pick = <T>(items: T[]): T => items[Math.floor(rand() * items.length)] as T;
  for (let i = 0; i < 150; i++) {
    const model = pick(["gpt-4.1", "claude-sonnet-4-5", '=HYPERLINK("x")']);
    const prompt = Math.floor(rand() * 5_000);
    const unpriced = rand() < 0.1;
    const record = makeRecord({
      tenant: pick(tenants),
      keyId: pick(["key-a", "key-b", "key-c"]),
      requestedModel: model,
      provider: pick(["openai", "anthropic"]),
      upstreamModel: model,
      status: pick([200, 200, 200, 200, 429, 502]),
      usage: {
        promptTokens: prompt,
        completionTokens: Math.floor(rand() * 800),
        cachedReadTokens: Math.floor(prompt * rand() * 0.5),
        cacheWriteTokens: 0,
        reasoningTokens: 0,
      },
      latencyMs: Math.floor(rand() * 3_000),
      // Every fifth row shares its timestamp with the one before: paging must break ties by request_id.
      createdAt: new Date(
        start + (Math.floor(i / 5) * 5 * (3 * DAY)) / 150 + (i % 5 === 1 ? 0 : (i % 5) * 1_000),
      ),
      tags: i % 10 === 0 ? { note: 'quote " comma , newline \n end', team: "=cmd" } : null,
      // Callers' own ids are labels, shared by several rows; one looks like a formula.
      clientRequestId: i % 3 === 0 ? null : i % 3 === 1 ? `job-${i % 4}` : "=1+1",
    });
    rows.push(
      toUsageRow(record, unpriced ? null : { picoUsd: BigInt(Math.floor(rand() * 1e9)) * 1_000n + 7n }),
    );
  }
  await insertUsageRows(db, rows);
});

/** What the API should say for a set of rows, computed here from the raw rows. */
function expected(subset: UsageRow[]) {
  const latencies = subset.map((r) => r.latencyMs).sort((a, b) => a - b);
  return {
    requests: subset.length,
    errors: subset.filter((r) => r.status >= 400).length,
    unpriced_requests: subset.filter((r) => r.unpriced).length,
    prompt_tokens: subset.reduce((a, r) => a + r.promptTokens, 0),
    completion_tokens: subset.reduce((a, r) => a + r.completionTokens, 0),
    cached_tokens: subset.reduce((a, r) => a + r.cachedReadTokens, 0),
    cost_usd: formatUsd(subset.reduce((a, r) => a + (r.costUsd ? parseUsd(r.costUsd) : 0n), 0n)),
    p50_latency_ms: percentile(latencies, 0.5),
    p95_latency_ms: percentile(latencies, 0.95),
  };
}

/** Postgres' percentile_cont: linear interpolation between the closest ranks. */
function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

function dayOf(row: UsageRow): string {
  return row.createdAt.toISOString().slice(0, 10);
}

function hourOf(row: UsageRow): string {
  return `${row.createdAt.toISOString().slice(0, 13)}:00:00Z`;
}

/** The API's answers as the tests read them: aggregates, listings and errors. */
interface Answer {
  data: Record<string, string | number | boolean | null>[];
  totals: Record<string, unknown>;
  next_cursor: string | null;
  has_more: boolean;
  error: { type: string; param: string | null; message: string };
}

async function getJson(path: string): Promise<{ status: number; body: Answer }> {
  const res = await app.request(path);
  return { status: res.status, body: (await res.json()) as Answer };
}

function expectAggregate(actual: Record<string, unknown>, subset: UsageRow[]) {
  const want = expected(subset);
  const { p50_latency_ms, p95_latency_ms, ...exact } = want;
  expect(actual).toMatchObject(exact);
  expect(actual.p50_latency_ms).toBeCloseTo(p50_latency_ms as number, 6);
  expect(actual.p95_latency_ms).toBeCloseTo(p95_latency_ms as number, 6);
}

describe("GET /usage", () => {
  it("groups by tenant, model and day with sums equal to the raw rows'", async () => {
    const { status, body } = await getJson(`/usage?${window}&group_by=tenant,model,day`);
    expect(status).toBe(200);
    const keys = new Set(rows.map((r) => `${r.tenant}|${r.requestedModel}|${dayOf(r)}`));
    expect(body.data).toHaveLength(keys.size);
    for (const group of body.data) {
      const subset = rows.filter(
        (r) => r.tenant === group.tenant && r.requestedModel === group.model && dayOf(r) === group.day,
      );
      expect(subset.length).toBeGreaterThan(0);
      expectAggregate(group, subset);
    }
    expectAggregate(body.totals, rows);
    // Time groups come in time order.
    const days = body.data.map((g) => String(g.day));
    expect(days).toEqual([...days].sort());
  });

  it("groups by key and provider (top keys by cost first) and by hour", async () => {
    const byKey = await getJson(`/usage?${window}&group_by=key,provider`);
    for (const group of byKey.body.data) {
      expectAggregate(
        group,
        rows.filter((r) => r.keyId === group.key_id && r.provider === group.provider),
      );
    }
    const costs = byKey.body.data.map((g) => parseUsd(String(g.cost_usd)));
    expect(costs).toEqual([...costs].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)));

    const byHour = await getJson(`/usage?${window}&group_by=hour`);
    expect(byHour.body.data).toHaveLength(new Set(rows.map(hourOf)).size);
    for (const group of byHour.body.data)
      expectAggregate(
        group,
        rows.filter((r) => hourOf(r) === group.hour),
      );
  });

  it("filters by tenant, key_id, model and provider", async () => {
    const [tenant] = tenants as [string];
    const filtered = await getJson(
      `/usage?${window}&tenant=${tenant}&key_id=key-b&provider=openai&model=gpt-4.1`,
    );
    const subset = rows.filter(
      (r) =>
        r.tenant === tenant &&
        r.keyId === "key-b" &&
        r.provider === "openai" &&
        r.requestedModel === "gpt-4.1",
    );
    expectAggregate(filtered.body.totals, subset);
    expect(filtered.body.data).toHaveLength(1);
  });

  it("answers bad parameters with OpenAI-shaped 400s naming the parameter", async () => {
    const cases: [string, string][] = [
      [`/usage?${window}&group_by=tenant,color`, "group_by"],
      ["/usage?from=yesterday", "from"],
      [`/usage?from=${to}&to=${from}`, "from"],
      [`/usage?${window}&limit=0`, "limit"],
      ["/usage/requests?cursor=not-a-cursor", "cursor"],
      ["/usage/export?format=xml", "format"],
    ];
    for (const [path, param] of cases) {
      const { status, body } = await getJson(path);
      expect(status, path).toBe(400);
      expect(body.error).toMatchObject({ type: "invalid_request_error", param });
      expect(typeof body.error.message).toBe("string");
    }
  });
});

/** A small RFC 4180 reader, independent of the writer under test. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      record.push(field);
      field = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      record.push(field);
      records.push(record);
      record = [];
      field = "";
      i++;
    } else field += ch;
  }
  return records;
}

describe("GET /usage/export", () => {
  it("streams one CSV line per request after a header, escaping quotes, commas, newlines and formulas", async () => {
    const res = await app.request(`/usage/export?format=csv&${window}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
    const text = await res.text();
    const records = parseCsv(text);
    const [header, ...lines] = records as [string[], ...string[][]];
    expect(header.slice(0, 4)).toEqual(["request_id", "client_request_id", "created_at", "tenant"]);
    expect(lines).toHaveLength(rows.length);
    expect(new Set(lines.map((l) => l[0]))).toEqual(new Set(rows.map((r) => r.requestId)));

    const col = (name: string) => header.indexOf(name);
    const tagged = lines.find((l) => l[col("tags")] !== "") as string[];
    expect(JSON.parse(tagged[col("tags")] as string)).toEqual({
      note: 'quote " comma , newline \n end',
      team: "=cmd",
    });
    // A model name a spreadsheet would run as a formula is defused with a leading apostrophe.
    const formula = lines.find((l) =>
      (l[col("requested_model")] as string).includes("HYPERLINK"),
    ) as string[];
    expect(formula[col("requested_model")]).toBe('\'=HYPERLINK("x")');
    // Exact costs, as stored.
    const byId = new Map(rows.map((r) => [r.requestId, r]));
    for (const l of lines) expect(l[col("cost_usd")]).toBe(byId.get(l[0] as string)?.costUsd ?? "");
    // The caller's id and tags of every row, as stored (tags as JSON text; formulas defused).
    for (const l of lines) {
      const row = byId.get(l[0] as string);
      const clientId = row?.clientRequestId ?? "";
      expect(l[col("client_request_id")]).toBe(clientId.startsWith("=") ? `'${clientId}` : clientId);
      expect(l[col("tags")]).toBe(row?.tags ? JSON.stringify(row.tags) : "");
    }
  });

  it("walks pages without losing or repeating a row, even across equal timestamps", async () => {
    const stream = await usageCsvStream(db, { from: new Date(from), to: new Date(to) }, 7);
    const records = parseCsv(await new Response(stream).text());
    const ids = records.slice(1).map((l) => l[0]);
    expect(ids).toHaveLength(rows.length);
    expect(new Set(ids).size).toBe(rows.length);
  });
});

describe("GET /usage/requests", () => {
  it("pages through raw rows newest first with an opaque cursor", async () => {
    const seen: { request_id: string; created_at: string }[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `/usage/requests?${window}&limit=7${cursor ? `&cursor=${cursor}` : ""}`;
      const { status, body } = await getJson(query);
      expect(status).toBe(200);
      expect(body.data.length).toBeLessThanOrEqual(7);
      seen.push(...(body.data as unknown as { request_id: string; created_at: string }[]));
      cursor = body.next_cursor;
      expect(body.has_more).toBe(cursor !== null);
      pages++;
    } while (cursor && pages < 100);

    expect(seen).toHaveLength(rows.length);
    expect(new Set(seen.map((r) => r.request_id)).size).toBe(rows.length);
    const order = seen.map((r) => `${r.created_at}|${r.request_id}`);
    expect(order).toEqual([...order].sort().reverse());
    const first = seen.find((r) => r.request_id === rows[0]?.requestId);
    expect(first).toMatchObject({
      tenant: rows[0]?.tenant,
      cost_usd: rows[0]?.costUsd,
      status: rows[0]?.status,
    });
    const byId = new Map(rows.map((r) => [r.requestId, r]));
    for (const r of seen as unknown as {
      request_id: string;
      client_request_id: string | null;
      tags: unknown;
    }[]) {
      expect(r.client_request_id).toBe(byId.get(r.request_id)?.clientRequestId);
      expect(r.tags).toEqual(byId.get(r.request_id)?.tags);
    }
  });
});
