/**
 * `npm run serve:neon-http`: Neon's SQL-over-HTTP protocol in front of a real Postgres, for a
 * self-hosted gateway's DATABASE_URL + NEON_FETCH_ENDPOINT. Settings from the environment:
 * POSTGRES_URL (postgres://user:pass@host:port/db of the real server, required), NEON_HTTP_TOKEN
 * (the password gateways put in their DATABASE_URL, 24+ characters, required), PORT (default
 * 4444), HOST (default 127.0.0.1). It applies the migrations first (`npm run db:migrate`'s).
 */
import { startPostgresEngine } from "../postgres/engine";
import { migrateDatabase } from "../postgres/migrate";
import { startNeonProxy } from "../postgres/neon-http";
import { redactUrl } from "../postgres/redact";

async function main(): Promise<void> {
  const { POSTGRES_URL, NEON_HTTP_TOKEN: token } = process.env;
  if (!POSTGRES_URL) throw new Error("set POSTGRES_URL, e.g. postgres://sluice:secret@127.0.0.1:5432/sluice");
  if (!token || token.length < 24) throw new Error("set NEON_HTTP_TOKEN to a secret of 24+ characters");
  const engine = await startPostgresEngine({ databaseUrl: POSTGRES_URL });
  await migrateDatabase(engine);
  const host = process.env.HOST ?? "127.0.0.1";
  const neon = await startNeonProxy({ engine, token, host, port: Number(process.env.PORT ?? 4444) });
  console.log(
    [
      `sluice neon-http: serving Neon's SQL over HTTP for ${redactUrl(POSTGRES_URL)}; gateways use`,
      `  DATABASE_URL=postgres://sluice:<NEON_HTTP_TOKEN>@neon-http/sluice`,
      `  NEON_FETCH_ENDPOINT=http://${host}:${neon.port}/sql`,
    ].join("\n"),
  );
  const stop = () =>
    void neon
      .close()
      .then(() => engine.close())
      .then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
