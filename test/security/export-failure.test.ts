import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { EXPORT_FAILED_LINE, usageCsvStream } from "../../src/admin/usage-csv";
import { toUsageRow } from "../../src/metering";
import { insertUsageRows } from "../../src/metering/insert";
import { ADMIN, callWorker, type ErrorJson } from "../admin/support";
import { control, makeRecord, testDb, uniqueTenant } from "../metering/support";

/**
 * A usage export whose store fails must say so (issue 10, Found 9): before the first byte with an
 * error status, after it with a last line no CSV reader takes for a row, and a transfer that does
 * not end cleanly. Runs in the outage project: it takes Postgres down.
 */

const db = testDb();
const DAY = 86_400_000;
// A far-future window no other test writes to, different on every run.
const start = Date.UTC(2200 + Math.floor(Math.random() * 700), Math.floor(Math.random() * 12), 1);
const window = { from: new Date(start), to: new Date(start + DAY) };
const query = `from=${window.from.toISOString()}&to=${window.to.toISOString()}`;
const tenant = uniqueTenant("export");
const ROWS = 5;

beforeAll(async () => {
  const rows = Array.from({ length: ROWS }, (_, i) =>
    toUsageRow(
      makeRecord({
        tenant,
        // An id that starts like a comment line must not end up at the start of a line.
        requestId: i === 0 ? `#${crypto.randomUUID()}` : crypto.randomUUID(),
        createdAt: new Date(start + i * 1_000),
      }),
      { picoUsd: 1n },
    ),
  );
  await insertUsageRows(db, rows);
});

afterEach(async () => {
  await control("postgres/up");
});

async function errorOf(res: Response): Promise<ErrorJson["error"]> {
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  return ((await res.json()) as ErrorJson).error;
}

describe("usage export with the store down", () => {
  it("control: the export lists every row after the header", async () => {
    const res = await callWorker(`/admin/usage/export?${query}&tenant=${tenant}`, { headers: ADMIN });
    expect(res.status).toBe(200);
    const lines = (await res.text()).split("\r\n").filter(Boolean);
    expect(lines).toHaveLength(ROWS + 1);
    expect(lines.some((line) => line.startsWith("#"))).toBe(false);
  });

  it("fails before the first byte with a 503, not a header-only 200", async () => {
    await control("postgres/down");
    const res = await callWorker(`/admin/usage/export?${query}&tenant=${tenant}`, { headers: ADMIN });
    expect(res.status).toBe(503);
    expect(await errorOf(res)).toMatchObject({ type: "server_error", code: "usage_store_unavailable" });
  });

  it("the aggregate and the listing answer 503 too, never an empty 200", async () => {
    await control("postgres/down");
    for (const path of ["/admin/usage", "/admin/usage/requests"]) {
      const res = await callWorker(`${path}?${query}&tenant=${tenant}`, { headers: ADMIN });
      expect(res.status, path).toBe(503);
      expect(await errorOf(res)).toMatchObject({ code: "usage_store_unavailable" });
    }
  });

  it("a failure after the first page ends with an error line, then the stream errors", async () => {
    const logged: string[] = [];
    const stream = await usageCsvStream(db, { ...window, tenant }, 2, (message) => logged.push(message));
    const reader = stream.getReader();
    const decoder = new TextDecoder();
    const first = await reader.read();
    const head = decoder.decode(first.value);
    // The header and the first page, read before the stream was handed over.
    expect(head.split("\r\n").filter(Boolean)).toHaveLength(3);
    expect(head.split("\r\n")[1]).toMatch(/^"#/);

    await control("postgres/down");
    const chunks: string[] = [];
    let failure: unknown = null;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(decoder.decode(value));
      }
    } catch (error) {
      failure = error;
    }
    expect(failure, "the stream must error, so the HTTP transfer is incomplete").not.toBeNull();
    const tail = chunks.join("");
    expect(tail).toBe(EXPORT_FAILED_LINE);
    expect(tail.startsWith("#error,")).toBe(true);
    expect(logged).toEqual(["usage export failed mid-stream"]);
  });

  it("the error line cannot be a data line: data lines never start with #", async () => {
    const stream = await usageCsvStream(db, { ...window, tenant }, 2);
    const text = await new Response(stream).text();
    const lines = text.split("\r\n").filter(Boolean);
    expect(lines).toHaveLength(ROWS + 1);
    for (const line of lines) expect(line.startsWith("#")).toBe(false);
  });
});
