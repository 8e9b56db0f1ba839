import { and, eq, gt, lte } from "drizzle-orm";
import { type Database, storedResponses } from "../../db";
import { RESPONSE_ID } from "./schema";

type Json = Record<string, unknown>;

/** A stored turn: every input item it had (earlier turns included) and the response. */
export interface StoredTurn {
  inputItems: Json[];
  response: Json;
}

/** Who a stored response belongs to: its tenant reads it; the key that made it is recorded. */
export interface Owner {
  tenant: string;
  keyId: string;
}

/**
 * The conversation state of the Responses API in Postgres (`stored_responses`), scoped to the
 * tenant: another tenant's id reads as absent. Ids are the gateway's own; anything else is absent
 * without a query.
 * @example const turn = await loadTurn(db, caller.tenant, "resp_...", Date.now())
 */
export async function loadTurn(
  db: Database,
  tenant: string,
  id: string,
  now: number,
): Promise<StoredTurn | null> {
  if (!RESPONSE_ID.test(id)) return null;
  const rows = await db
    .select({ inputItems: storedResponses.inputItems, response: storedResponses.response })
    .from(storedResponses)
    .where(
      and(
        eq(storedResponses.id, id),
        eq(storedResponses.tenant, tenant),
        gt(storedResponses.expiresAt, new Date(now)),
      ),
    )
    .limit(1);
  const row = rows[0];
  return row ? { inputItems: row.inputItems as Json[], response: row.response } : null;
}

/**
 * Stores a finished turn until `retentionDays` from now (idempotent on the id).
 * @example await saveTurn(db, { tenant, keyId }, { inputItems, response }, Date.now(), 30)
 */
export async function saveTurn(
  db: Database,
  owner: Owner,
  turn: StoredTurn,
  now: number,
  retentionDays: number,
): Promise<void> {
  const id = turn.response.id;
  if (typeof id !== "string" || !RESPONSE_ID.test(id)) return;
  await db
    .insert(storedResponses)
    .values({
      id,
      tenant: owner.tenant,
      keyId: owner.keyId,
      inputItems: turn.inputItems,
      response: turn.response,
      createdAt: new Date(now),
      expiresAt: new Date(now + retentionDays * 86_400_000),
    })
    .onConflictDoNothing();
}

/**
 * Deletes a tenant's stored response; false when it has none by that id.
 * @example if (!(await deleteTurn(db, tenant, id))) throw notFound(...)
 */
export async function deleteTurn(db: Database, tenant: string, id: string): Promise<boolean> {
  if (!RESPONSE_ID.test(id)) return false;
  const rows = await db
    .delete(storedResponses)
    .where(and(eq(storedResponses.id, id), eq(storedResponses.tenant, tenant)))
    .returning({ id: storedResponses.id });
  return rows.length > 0;
}

/**
 * Deletes every stored response past its retention (the cron trigger runs it); reads already
 * ignore them.
 * @example ctx.waitUntil(purgeExpiredTurns(services.db, Date.now()))
 */
export async function purgeExpiredTurns(db: Database, now: number): Promise<void> {
  await db.delete(storedResponses).where(lte(storedResponses.expiresAt, new Date(now)));
}
