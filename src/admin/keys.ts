import { type Context, Hono } from "hono";
import * as z from "zod";
import { InvalidKeyClaimsError, type KeyClaimsInput, type MintedKey, mintKey } from "../auth";
import { ensureTenant } from "../billing/tenant-store";
import { ownValue } from "../config";
import type { AppEnv } from "../context";
import type { ApiKeyRow } from "../db";
import { badRequest, GatewayError, notFound } from "../errors";
import { revokeKey } from "../limits";
import { readJsonBody } from "../proxy/body";
import type { Services } from "../services";
import {
  CreateKeyBody,
  isKeyId,
  ListKeysQuery,
  MAX_LIFETIME_SECONDS,
  parseOrThrow,
  RotateKeyBody,
} from "./key-params";
import {
  findKey,
  insertKey,
  keyView,
  listKeys,
  markRevoked,
  recordRotation,
  rowFromClaims,
} from "./key-store";

/** Admin bodies are a few hundred bytes; anything near this is not a key request. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * How long a revocation marker outlives the key's `exp`: the verifier accepts a token up to its
 * clock tolerance (30 s) past `exp`, and the marker must cover that window too.
 */
const MARKER_MARGIN_MS = 60_000;

/**
 * The parsed JSON object as is: readJsonBody has refused anything but an object, and the strict
 * schemas must see every own key. Copying it through a record schema would silently drop a
 * `__proto__` key instead of refusing it as an unknown parameter.
 */
const JsonObject = z.custom<Record<string, unknown>>();

/**
 * Key management under /admin/keys (behind the admin token):
 * - `POST /` mints a key → 201 with `key`, the only time the token is shown;
 * - `GET /?tenant=&limit=` → `{ object: "list", data, has_more }`, newest first, metadata only;
 * - `GET /{id}`; `DELETE /{id}` revokes (refused everywhere from the next request on);
 * - `POST /{id}/rotate` `{ grace_seconds? }` → a successor with the same claims; the old key
 *   keeps working until the grace ends.
 * @example admin.route("/keys", keyRoutes())
 */
export function keyRoutes(): Hono<AppEnv> {
  const keys = new Hono<AppEnv>();

  keys.post("/", async (c) => {
    const services = c.get("services");
    const { expires_in, ...claims } = parseOrThrow(CreateKeyBody, await readBody(c.req.raw));
    // An own name, not `in`: `toString` is "in" every object and would mint a key with no plan limits.
    if (claims.plan !== undefined && ownValue(services.config.plans, claims.plan) === undefined) {
      const known = Object.keys(services.config.plans).join(", ");
      throw badRequest(`Unknown plan '${claims.plan}'. Known plans: ${known}.`, "plan", "unknown_plan");
    }
    const now = services.now();
    const { minted, signingKid } = await mint(services, claims, expires_in, now);
    await ensureTenant(await services.db(), minted.claims.sub, new Date(now));
    const row = await insertKey(
      await services.db(),
      rowFromClaims(minted.claims, { signingKid, createdAt: new Date(now) }),
    );
    return withToken(c, row, minted.token);
  });

  keys.get("/", async (c) => {
    const query = parseOrThrow(ListKeysQuery, c.req.query());
    const { rows, hasMore } = await listKeys(await c.get("services").db(), query);
    return c.json({ object: "list", data: rows.map(keyView), has_more: hasMore });
  });

  keys.get("/:id", async (c) => c.json(keyView(await existingKey(c))));

  keys.delete("/:id", async (c) => {
    const services = c.get("services");
    const row = await existingKey(c);
    const now = services.now();
    // Redis first: it is what refuses the key. Repeating a DELETE re-asserts the marker. Refused
    // "since 0" rather than since now, so no isolate with a slower clock lets it through.
    await storeRevocation(services, row, 0, now);
    const revoked = await markRevoked(await services.db(), row.id, new Date(now));
    return c.json(keyView(revoked ?? row));
  });

  keys.post("/:id/rotate", async (c) => {
    const services = c.get("services");
    const body = parseOrThrow(RotateKeyBody, await readBody(c.req.raw));
    const old = await existingKey(c);
    const now = services.now();
    refuseUnrotatable(old, now);
    const { minted, signingKid } = await mint(
      services,
      claimsOf(old),
      body.expires_in ?? lifetimeOf(old),
      now,
    );
    const graceEndsAt = now + body.grace_seconds * 1000;
    // The delayed refusal goes to Redis before the successor is recorded: if it fails, nothing changed.
    await storeRevocation(services, old, graceEndsAt, now);
    const rotation = await recordRotation(
      await services.db(),
      old.id,
      new Date(graceEndsAt),
      rowFromClaims(minted.claims, { signingKid, createdAt: new Date(now), rotatedFrom: old.id }),
    );
    if (!rotation) throw conflict("The key was revoked or rotated meanwhile.", "key_not_rotatable");
    return withToken(c, rotation.successor, minted.token);
  });

  return keys;
}

/** The one response that carries a token: never cached anywhere on the way. */
function withToken(c: Context<AppEnv>, row: ApiKeyRow, token: string): Response {
  const { id, object, ...rest } = keyView(row);
  c.header("cache-control", "no-store");
  return c.json({ id, object, key: token, ...rest }, 201);
}

async function mint(
  services: Services,
  claims: KeyClaimsInput,
  expiresInSeconds: number | undefined,
  now: number,
): Promise<{ minted: MintedKey; signingKid: string }> {
  const signer = await services.signer();
  const { issuer, audience } = services.config;
  try {
    return {
      minted: await mintKey(signer, claims, { issuer, audience, expiresInSeconds, now }),
      signingKid: signer.kid,
    };
  } catch (error) {
    // The body was validated with the same schema; this guards against the two drifting apart.
    if (error instanceof InvalidKeyClaimsError) {
      const first = error.issues[0];
      throw badRequest(
        `Invalid value for '${first?.path}': ${first?.message}.`,
        first?.path ?? null,
        "invalid_value",
      );
    }
    throw error;
  }
}

/**
 * Writes the Redis marker the gate checks: refused from `effectiveAt` (ms). An earlier marker
 * always wins, so a rotation can never lift a revocation. Keys without `exp` get a marker without
 * TTL: their signature never expires, so a marker that did would bring a revoked key back.
 */
async function storeRevocation(
  services: Services,
  row: ApiKeyRow,
  effectiveAt: number,
  now: number,
): Promise<void> {
  const markerExpiresAt = row.expiresAt ? row.expiresAt.getTime() + MARKER_MARGIN_MS : null;
  try {
    await revokeKey(services.redis, row.id, markerExpiresAt, { effectiveAt, now });
    services.revocations.forget(row.id);
  } catch {
    services.log("error", "could not store key revocation", { keyId: row.id });
    throw new GatewayError({
      status: 503,
      type: "server_error",
      message:
        "The revocation could not be stored (the limits store is unreachable); nothing was changed. Retry shortly.",
      code: "revocation_unavailable",
      headers: { "retry-after": "1" },
    });
  }
}

async function existingKey(c: Context<AppEnv>): Promise<ApiKeyRow> {
  const id = c.req.param("id") ?? "";
  const row = isKeyId(id) ? await findKey(await c.get("services").db(), id) : null;
  // The id is not echoed: a caller pasting a token into the path must not get it back.
  if (!row) throw notFound("No API key with that id.", "key_not_found");
  return row;
}

function refuseUnrotatable(row: ApiKeyRow, now: number): void {
  if (row.revokedAt)
    throw conflict("A revoked key cannot be rotated; mint a new key instead.", "key_revoked");
  if (row.graceEndsAt)
    throw conflict("This key was already rotated; rotate its successor instead.", "key_already_rotated");
  if (row.expiresAt && row.expiresAt.getTime() <= now) {
    throw conflict("An expired key cannot be rotated; mint a new key instead.", "key_expired");
  }
}

const conflict = (message: string, code: string) =>
  new GatewayError({ status: 409, type: "invalid_request_error", message, code });

/** The claims a successor inherits: everything but the id and the times. */
function claimsOf(row: ApiKeyRow): KeyClaimsInput {
  return {
    tenant: row.tenant,
    name: row.name ?? undefined,
    scopes: row.scopes,
    models: row.models,
    plan: row.plan ?? undefined,
    limits: row.limits,
  };
}

/** The old key's lifetime in whole seconds (its `exp - iat`), or undefined when it never expired. */
function lifetimeOf(row: ApiKeyRow): number | undefined {
  if (!row.expiresAt) return undefined;
  const seconds = Math.ceil((row.expiresAt.getTime() - row.createdAt.getTime()) / 1000);
  return Math.min(Math.max(seconds, 1), MAX_LIFETIME_SECONDS);
}

/** The JSON object body; no body at all means `{}` (a rotation with the default grace). */
async function readBody(request: Request): Promise<Record<string, unknown>> {
  if (request.body === null) return {};
  return readJsonBody(request, JsonObject, MAX_BODY_BYTES);
}
