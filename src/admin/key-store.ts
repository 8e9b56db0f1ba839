import { and, desc, eq, isNull } from "drizzle-orm";
import type { KeyClaims } from "../auth";
import { type ApiKeyRow, apiKeys, type Database } from "../db";

/** An API key as the admin API shows it: metadata only, never the token. */
export interface KeyView {
  id: string;
  object: "api_key";
  tenant: string;
  name: string | null;
  models: string[];
  scopes: string[];
  plan: string | null;
  limits: Record<string, number>;
  signing_kid: string | null;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  rotated_from: string | null;
  grace_ends_at: string | null;
}

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

/** The admin API's JSON for a stored key. */
export function keyView(row: ApiKeyRow): KeyView {
  return {
    id: row.id,
    object: "api_key",
    tenant: row.tenant,
    name: row.name,
    models: row.models,
    scopes: row.scopes,
    plan: row.plan,
    limits: row.limits,
    signing_kid: row.signingKid,
    created_at: row.createdAt.toISOString(),
    expires_at: iso(row.expiresAt),
    revoked_at: iso(row.revokedAt),
    rotated_from: row.rotatedFrom,
    grace_ends_at: iso(row.graceEndsAt),
  };
}

/** The row for freshly minted claims: what the token says, minus the token. */
export function rowFromClaims(
  claims: KeyClaims,
  extra: { signingKid: string; createdAt: Date; rotatedFrom?: string },
): typeof apiKeys.$inferInsert {
  return {
    id: claims.jti,
    tenant: claims.sub,
    name: claims.name ?? null,
    scopes: claims.scopes,
    models: claims.models,
    plan: claims.plan ?? null,
    limits: { ...claims.limits },
    signingKid: extra.signingKid,
    createdAt: extra.createdAt,
    expiresAt: claims.exp === undefined ? null : new Date(claims.exp * 1000),
    rotatedFrom: extra.rotatedFrom ?? null,
  };
}

/** Stores a minted key's metadata. */
export async function insertKey(db: Database, row: typeof apiKeys.$inferInsert): Promise<ApiKeyRow> {
  const [stored] = await db.insert(apiKeys).values(row).returning();
  if (!stored) throw new Error("insert into api_keys returned no row");
  return stored;
}

/** One key by id, or null. */
export async function findKey(db: Database, id: string): Promise<ApiKeyRow | null> {
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, id)).limit(1);
  return row ?? null;
}

/** Keys newest first, optionally of one tenant; one extra row tells whether more exist. */
export async function listKeys(
  db: Database,
  opts: { tenant?: string; limit: number },
): Promise<{ rows: ApiKeyRow[]; hasMore: boolean }> {
  const rows = await db
    .select()
    .from(apiKeys)
    .where(opts.tenant === undefined ? undefined : eq(apiKeys.tenant, opts.tenant))
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
    .limit(opts.limit + 1);
  return { rows: rows.slice(0, opts.limit), hasMore: rows.length > opts.limit };
}

/** Marks a key revoked at `at`, keeping an earlier revocation time; returns the updated row. */
export async function markRevoked(db: Database, id: string, at: Date): Promise<ApiKeyRow | null> {
  const [updated] = await db
    .update(apiKeys)
    .set({ revokedAt: at })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning();
  return updated ?? findKey(db, id);
}

/**
 * Records a rotation in one transaction: the successor's row, and the old key's grace end, only
 * if the old key is still live and unrotated. Returns null when someone revoked or rotated it first.
 */
export async function recordRotation(
  db: Database,
  oldId: string,
  graceEndsAt: Date,
  successor: typeof apiKeys.$inferInsert,
): Promise<{ old: ApiKeyRow; successor: ApiKeyRow } | null> {
  const [updated, inserted] = await db.batch([
    db
      .update(apiKeys)
      .set({ graceEndsAt })
      .where(and(eq(apiKeys.id, oldId), isNull(apiKeys.revokedAt), isNull(apiKeys.graceEndsAt)))
      .returning(),
    db.insert(apiKeys).values(successor).returning(),
  ]);
  const old = updated[0];
  const stored = inserted[0];
  if (old && stored) return { old, successor: stored };
  // Lost a race: the successor must not outlive the refusal.
  if (stored) await db.delete(apiKeys).where(eq(apiKeys.id, stored.id));
  return null;
}
