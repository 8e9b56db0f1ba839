import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import type { PostgresEngine } from "./engine";

/** Any fixed number: the advisory lock that keeps two migrators from racing on one database. */
const MIGRATION_LOCK_KEY = 7_349_017;

/**
 * Applies the drizzle-kit migrations in `migrationsFolder` (with meta/_journal.json) that the
 * database has not seen yet; running it again is a no-op.
 */
export async function migrateDatabase(engine: PostgresEngine, migrationsFolder = "drizzle"): Promise<void> {
  const folder = resolve(migrationsFolder);
  if (!existsSync(join(folder, "meta", "_journal.json"))) {
    throw new Error(`no drizzle migrations in ${folder} (meta/_journal.json is missing)`);
  }
  // One dedicated connection: the lock, drizzle's bookkeeping and the migration transaction share it.
  const client = new pg.Client({ connectionString: engine.databaseUrl });
  await client.connect();
  try {
    // Parallel test workers may migrate the same real Postgres at once; CREATE SCHEMA IF NOT EXISTS
    // and the journal check both race without a lock.
    await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    try {
      await migrate(drizzle({ client }), { migrationsFolder: folder });
    } finally {
      await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}
