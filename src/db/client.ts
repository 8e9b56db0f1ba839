import { neon, neonConfig } from "@neondatabase/serverless";
import { drizzle, type NeonHttpDatabase } from "drizzle-orm/neon-http";
import * as schema from "./schema";

export type Database = NeonHttpDatabase<typeof schema>;

const clients = new Map<string, Database>();

/**
 * A drizzle client over Neon's SQL-over-HTTP (one HTTP round trip per query or batch), cached per
 * isolate. `fetchEndpoint` points the driver at a local `/sql` endpoint in development and tests.
 * @example const db = createDatabase(env.DATABASE_URL, env.NEON_FETCH_ENDPOINT)
 */
export function createDatabase(databaseUrl: string, fetchEndpoint?: string): Database {
  const cacheKey = `${databaseUrl}|${fetchEndpoint ?? ""}`;
  let db = clients.get(cacheKey);
  if (!db) {
    if (fetchEndpoint) neonConfig.fetchEndpoint = fetchEndpoint;
    db = drizzle(neon(databaseUrl), { schema });
    clients.set(cacheKey, db);
  }
  return db;
}
