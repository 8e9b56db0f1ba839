/**
 * `npm run db:migrate`: applies drizzle/ migrations to DATABASE_URL (a real Postgres, Neon
 * included). Without DATABASE_URL there is nothing to migrate: the local stack migrates its own.
 */
import { startPostgresEngine } from "./postgres/engine";
import { migrateDatabase } from "./postgres/migrate";

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error("Set DATABASE_URL to the Postgres to migrate (e.g. your Neon connection string).");
  process.exit(2);
}
const engine = await startPostgresEngine({ databaseUrl });
try {
  await migrateDatabase(engine);
  console.log("migrations applied");
} finally {
  await engine.close();
}
