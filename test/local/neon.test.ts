import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NeonDbError, type NeonQueryFunction, neon, neonConfig, Pool } from "@neondatabase/serverless";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/neon-http";
import { integer, jsonb, numeric, pgTable, serial, text, timestamp } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import ws from "ws";
import { type PostgresEngine, startPostgresEngine } from "../../local/postgres/engine";
import { migrateDatabase } from "../../local/postgres/migrate";
import { type NeonProxy, neonConnectionString, startNeonProxy } from "../../local/postgres/neon-http";

// PGlite always; a real Postgres too when DATABASE_URL is set (Debian's PG15 in CI).
const engines: { name: string; databaseUrl?: string }[] = [{ name: "pglite" }];
if (process.env.DATABASE_URL) engines.push({ name: "postgres", databaseUrl: process.env.DATABASE_URL });

/** Points the Neon client at a local proxy the way the gateway does in workerd (plus `ws` on Node). */
function useProxy(proxy: NeonProxy): void {
  neonConfig.fetchEndpoint = proxy.sqlEndpoint;
  neonConfig.wsProxy = `127.0.0.1:${proxy.port}/v2`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
  neonConfig.webSocketConstructor = ws;
}

async function setOutage(proxy: NeonProxy, down: boolean): Promise<void> {
  const res = await fetch(`${proxy.url}/__neon/outage`, { method: "POST", body: JSON.stringify({ down }) });
  expect(await res.json()).toEqual({ down });
}

describe.each(engines)("local Neon on $name", ({ databaseUrl }) => {
  let engine: PostgresEngine;
  let proxy: NeonProxy;
  const suffix = randomUUID().slice(0, 8);
  const items = `items_${suffix}`;
  let connectionString: string;
  let sql: NeonQueryFunction<false, false>;

  beforeAll(async () => {
    engine = await startPostgresEngine({ databaseUrl });
    proxy = await startNeonProxy({ engine });
    useProxy(proxy);
    connectionString = neonConnectionString(engine);
    sql = neon(connectionString);
    await engine.query(
      `create table ${items} (id serial primary key, name text not null unique, qty int not null)`,
    );
  }, 60_000);

  afterAll(async () => {
    await engine?.query(`drop table if exists ${items}, drizzle_${suffix}`).catch(() => {});
    await proxy?.close();
    await engine?.close();
  });

  it("round-trips parameters and results with their types", async () => {
    const when = new Date("2024-05-06T07:08:09.123Z");
    const [row] = await sql`select
      ${42}::int as i, ${"9007199254740993"}::bigint as big, ${"12.50"}::numeric as n,
      ${true}::boolean as b, ${"héllo 'x'"}::text as t, ${null}::text as nothing,
      ${{ a: [1, "x"], ok: true }}::jsonb as j, ${when}::timestamptz as ts,
      ${[1, 2, 3]}::int[] as ints, ${["a", "b c", null]}::text[] as texts,
      ${Buffer.from([0, 1, 254])}::bytea as bytes, ${1.5}::float8 as f`;
    expect(row).toEqual({
      i: 42,
      big: "9007199254740993",
      n: "12.50",
      b: true,
      t: "héllo 'x'",
      nothing: null,
      j: { a: [1, "x"], ok: true },
      ts: row?.ts,
      ints: [1, 2, 3],
      texts: ["a", "b c", null],
      bytes: Buffer.from([0, 1, 254]),
      f: 1.5,
    });
    // drizzle's neon-http driver switches the client's timestamp parser to strings for the whole
    // process, so depending on test order this is a Date or Postgres' text; the instant must match.
    expect(new Date(row?.ts as string | Date).getTime()).toBe(when.getTime());
  });

  it("reports Postgres errors with their SQLSTATE code", async () => {
    const error = await sql`select * from ${sql.unsafe(`missing_${suffix}`)}`.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NeonDbError);
    expect((error as NeonDbError).code).toBe("42P01");
    expect((error as NeonDbError).message).toContain(`missing_${suffix}`);

    await sql`insert into ${sql.unsafe(items)} (name, qty) values ('dup', 1)`;
    const dup = await sql`insert into ${sql.unsafe(items)} (name, qty) values ('dup', 2)`.catch((e) => e);
    expect((dup as NeonDbError).code).toBe("23505");
    expect((dup as NeonDbError).constraint).toBe(`${items}_name_key`);
  });

  it("commits a transaction together and rolls all of it back on error", async () => {
    const [inserted, counted] = await sql.transaction([
      sql`insert into ${sql.unsafe(items)} (name, qty) values ('tx-a', 1), ('tx-b', 2) returning qty`,
      sql`select count(*)::int as n from ${sql.unsafe(items)} where name like 'tx-%'`,
    ]);
    expect(inserted).toEqual([{ qty: 1 }, { qty: 2 }]);
    expect(counted).toEqual([{ n: 2 }]);

    const failed = await sql
      .transaction([
        sql`insert into ${sql.unsafe(items)} (name, qty) values ('tx-c', 3)`,
        sql`select * from ${sql.unsafe(`missing_${suffix}`)}`,
      ])
      .catch((e: unknown) => e);
    expect((failed as NeonDbError).code).toBe("42P01");
    const after = await engine.query(`select name from ${items} where name = 'tx-c'`);
    expect(after.rows).toEqual([]);
  });

  it("applies a transaction's isolation level and read-only mode", async () => {
    const [isolation, readOnly] = await sql.transaction(
      [sql`show transaction_isolation`, sql`show transaction_read_only`],
      { isolationLevel: "Serializable", readOnly: true },
    );
    expect(isolation).toEqual([{ transaction_isolation: "serializable" }]);
    expect(readOnly).toEqual([{ transaction_read_only: "on" }]);

    const refused = await sql
      .transaction([sql`insert into ${sql.unsafe(items)} (name, qty) values ('ro', 1)`], { readOnly: true })
      .catch((e: unknown) => e);
    expect((refused as NeonDbError).code).toBe("25006");
  });

  it("does not let a transaction opened by a single query leak into later queries", async () => {
    await sql`begin`;
    await sql`insert into ${sql.unsafe(items)} (name, qty) values ('autocommit', 7)`;
    // Read over another connection: only a committed row is visible there.
    const seen = await engine.query(`select qty from ${items} where name = 'autocommit'`);
    expect(seen.rows).toEqual([{ qty: 7 }]);
  });

  it("serves drizzle's neon-http driver: insert, select and batch", async () => {
    const things = pgTable(`drizzle_${suffix}`, {
      id: serial("id").primaryKey(),
      name: text("name").notNull(),
      qty: integer("qty").notNull(),
      price: numeric("price", { precision: 10, scale: 4 }),
      meta: jsonb("meta").$type<{ tags: string[] }>(),
      createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    });
    await engine.query(
      `create table drizzle_${suffix} (id serial primary key, name text not null, qty int not null,
       price numeric(10,4), meta jsonb, created_at timestamptz not null default now())`,
    );
    const db = drizzle({ client: sql });

    const [created] = await db
      .insert(things)
      .values({ name: "widget", qty: 3, price: "1.2500", meta: { tags: ["a"] } })
      .returning();
    expect(created).toMatchObject({ name: "widget", qty: 3, price: "1.2500", meta: { tags: ["a"] } });
    expect(created?.createdAt).toBeInstanceOf(Date);

    const found = await db.select().from(things).where(eq(things.name, "widget"));
    expect(found).toEqual([created]);

    const [, all] = await db.batch([
      db.insert(things).values({ name: "gadget", qty: 1 }),
      db.select({ name: things.name, qty: things.qty }).from(things).orderBy(things.id),
    ]);
    expect(all).toEqual([
      { name: "widget", qty: 3 },
      { name: "gadget", qty: 1 },
    ]);
  });

  it("serves Pool and Client over the WebSocket proxy and ends cleanly", async () => {
    const pool = new Pool({ connectionString });
    pool.on("error", () => {});
    const { rows } = await pool.query("select $1::int + 1 as n, current_database() is not null as ok", [41]);
    expect(rows).toEqual([{ n: 42, ok: true }]);

    const client = await pool.connect();
    await client.query("begin");
    await client.query(`insert into ${items} (name, qty) values ('ws-rolled-back', 1)`);
    await client.query("rollback");
    client.release();
    const { rows: left } = await pool.query(
      `select count(*)::int as n from ${items} where name = 'ws-rolled-back'`,
    );
    expect(left).toEqual([{ n: 0 }]);

    // Resolves only if the proxy closes both sides after the client's Terminate.
    await pool.end();
  });

  it("keeps concurrent HTTP queries and transactions apart", async () => {
    const work = Array.from({ length: 24 }, (_, i) =>
      i % 3 === 0
        ? sql.transaction([
            sql`insert into ${sql.unsafe(items)} (name, qty) values (${`conc-${i}`}, ${i})`,
            sql`select qty from ${sql.unsafe(items)} where name = ${`conc-${i}`}`,
          ])
        : sql`insert into ${sql.unsafe(items)} (name, qty) values (${`conc-${i}`}, ${i}) returning qty`,
    );
    const results = await Promise.all(work);
    results.forEach((result, i) => {
      const rows = i % 3 === 0 ? (result as unknown[][])[1] : result;
      expect(rows).toEqual([{ qty: i }]);
    });
    const total = await engine.query(`select count(*)::int as n from ${items} where name like 'conc-%'`);
    expect(total.rows).toEqual([{ n: 24 }]);
  });

  it("speaks the raw protocol: JSON values without raw text, text values with it, 400 on bad input", async () => {
    const query = {
      query: "select 1::int as a, true as b, '{1,NULL,3}'::int[] as c, '{\"x\":1}'::jsonb as d",
    };
    type Reply = { rows: unknown[]; fields: { dataTypeID: number }[]; rowAsArray: boolean; code?: string };
    const post = (body: unknown, headers: Record<string, string> = {}) =>
      fetch(proxy.sqlEndpoint, { method: "POST", headers, body: JSON.stringify(body) });

    const plain = (await (await post(query)).json()) as Reply;
    expect(plain).toMatchObject({ command: "SELECT", rowCount: 1, rowAsArray: false });
    expect(plain.rows).toEqual([{ a: 1, b: true, c: [1, null, 3], d: { x: 1 } }]);
    expect(plain.fields.map((f) => f.dataTypeID)).toEqual([23, 16, 1007, 3802]);

    const raw = (await (
      await post(query, { "Neon-Raw-Text-Output": "true", "Neon-Array-Mode": "true" })
    ).json()) as Reply;
    expect(raw.rows).toEqual([["1", "t", "{1,NULL,3}", '{"x": 1}']]);
    expect(raw.rowAsArray).toBe(true);

    // JSON parameters (not pre-stringified as the client does) and quoted array elements.
    const typed = (await (
      await post({
        query: "select $1::text[] as t, $2::int as n, $3::jsonb as j, $4::bool as b, $5::text as nothing",
        params: [["x y", 'q"', null], 5, { k: [1] }, true, null],
      })
    ).json()) as Reply;
    expect(typed.rows).toEqual([{ t: ["x y", 'q"', null], n: 5, j: { k: [1] }, b: true, nothing: null }]);

    const bad = await post({ nope: true });
    expect(bad.status).toBe(400);
    const multi = await post({ query: "select 1; select 2" });
    expect(multi.status).toBe(400);
    expect(((await multi.json()) as Reply).code).toBe("42601");
  });

  it("fails queries and WebSocket connections during an outage, then recovers", async () => {
    const before = new Pool({ connectionString });
    before.on("error", () => {});
    const open = await before.connect();
    open.on("error", () => {});

    await setOutage(proxy, true);
    const httpError = await sql`select 1 as one`.catch((e: unknown) => e);
    expect(httpError).toBeInstanceOf(NeonDbError);
    expect((httpError as Error).message).toContain("HTTP status 503");
    await expect(open.query("select 1")).rejects.toThrow();
    const during = new Pool({ connectionString, connectionTimeoutMillis: 5_000 });
    during.on("error", () => {});
    await expect(during.query("select 1")).rejects.toThrow();
    await during.end();

    await setOutage(proxy, false);
    expect(await sql`select 1 as one`).toEqual([{ one: 1 }]);
    const after = new Pool({ connectionString });
    expect((await after.query("select 2 as two")).rows).toEqual([{ two: 2 }]);
    await after.end();
    open.release(true);
    await before.end();
  });

  it("applies drizzle-kit migrations once; running again changes nothing", async () => {
    const folder = writeMigrations(suffix);
    // On a shared real Postgres, migrate a scratch database so drizzle's journal stays untouched.
    const scratch = databaseUrl ? await createScratchDatabase(engine, databaseUrl, suffix) : undefined;
    const target = scratch ?? engine;
    try {
      await migrateDatabase(target, folder);
      await migrateDatabase(target, folder);
      const applied = await target.query("select count(*)::int as n from drizzle.__drizzle_migrations");
      expect(applied.rows).toEqual([{ n: 2 }]);
      const rows = await target.query(`select label from migrated_${suffix}`);
      expect(rows.rows).toEqual([{ label: "seeded" }]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
      if (scratch) {
        await scratch.close();
        await engine.query(`drop database sluice_scratch_${suffix}`);
      } else {
        await engine.query(`drop table if exists migrated_${suffix}`);
      }
    }
  });
});

/** A drizzle-kit style folder: two SQL files and meta/_journal.json. */
function writeMigrations(suffix: string): string {
  const folder = mkdtempSync(join(tmpdir(), "sluice-migrations-"));
  mkdirSync(join(folder, "meta"));
  writeFileSync(
    join(folder, "0000_create.sql"),
    `CREATE TABLE "migrated_${suffix}" ("id" serial PRIMARY KEY, "label" text NOT NULL);`,
  );
  writeFileSync(
    join(folder, "0001_seed.sql"),
    `ALTER TABLE "migrated_${suffix}" ADD COLUMN "n" int;\n--> statement-breakpoint\nINSERT INTO "migrated_${suffix}" ("label") VALUES ('seeded');`,
  );
  const entries = ["0000_create", "0001_seed"].map((tag, idx) => ({
    idx,
    version: "7",
    when: 1_700_000_000_000 + idx,
    tag,
    breakpoints: true,
  }));
  writeFileSync(
    join(folder, "meta", "_journal.json"),
    JSON.stringify({ version: "7", dialect: "postgresql", entries }),
  );
  return folder;
}

async function createScratchDatabase(
  engine: PostgresEngine,
  databaseUrl: string,
  suffix: string,
): Promise<PostgresEngine> {
  await engine.query(`create database sluice_scratch_${suffix}`);
  const url = new URL(databaseUrl);
  url.pathname = `/sluice_scratch_${suffix}`;
  return startPostgresEngine({ databaseUrl: url.toString() });
}
