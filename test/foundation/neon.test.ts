import { env } from "cloudflare:workers";
import { neon, neonConfig } from "@neondatabase/serverless";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createDatabase, usageEvents } from "../../src/db";

describe("Postgres through @neondatabase/serverless from inside workerd", () => {
  it("inserts and reads back a usage_events row with drizzle neon-http", async () => {
    const db = createDatabase(env.DATABASE_URL, env.NEON_FETCH_ENDPOINT);
    const requestId = `foundation-${crypto.randomUUID()}`;
    await db.insert(usageEvents).values({
      requestId,
      tenant: "acme",
      keyId: "key-1",
      endpoint: "chat",
      requestedModel: "gpt-4o-mini",
      status: 200,
      promptTokens: 12,
      completionTokens: 34,
      costUsd: "0.000022200000",
      tags: { team: "search" },
    });
    const [row] = await db.select().from(usageEvents).where(eq(usageEvents.requestId, requestId));
    expect(row).toMatchObject({
      tenant: "acme",
      promptTokens: 12,
      completionTokens: 34,
      tags: { team: "search" },
    });
    expect(row?.costUsd).toBe("0.000022200000");
  });

  it("surfaces SQL errors with their code", async () => {
    neonConfig.fetchEndpoint = env.NEON_FETCH_ENDPOINT;
    const sql = neon(env.DATABASE_URL);
    await expect(sql`select * from no_such_table`).rejects.toMatchObject({ code: "42P01" });
  });
});
