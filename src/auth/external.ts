import {
  createRemoteJWKSet,
  customFetch,
  type FetchImplementation,
  type JWTPayload,
  type JWTVerifyGetKey,
} from "jose";
import { freezeIdentity, IDENTIFIER } from "./claims";
import { IssuerUnavailableError, isKeyLookupMiss } from "./jose-errors";
import type { KeyIdentity } from "./types";

/** Asymmetric algorithms an identity provider may sign with; HS* and `none` can never be configured. */
export const EXTERNAL_ALGORITHMS = ["RS256", "PS256", "ES256", "ES384", "EdDSA"] as const;
export type ExternalAlgorithm = (typeof EXTERNAL_ALGORITHMS)[number];

/** A trusted identity provider whose own tokens (without the sluice prefix) are accepted as keys. */
export interface ExternalIssuer {
  /** Exact `iss` value of its tokens. */
  issuer: string;
  /** Its JWKS endpoint (https, or http on localhost). */
  jwksUrl: string;
  /** The `aud` its tokens must carry for sluice. */
  audience: string | string[];
  /** Top-level claim holding the tenant; default "sub". */
  tenantClaim?: string;
  /** Top-level claim holding the plan name; when absent or unusable, `defaultPlan`. */
  planClaim?: string;
  defaultPlan?: string;
  /** Model patterns its users may call; default every model. */
  models?: string[];
  /** Scope patterns granted to its users; default every scope. */
  scopes?: string[];
  /** Default RS256, ES256 and EdDSA (most providers sign with RS256). */
  algorithms?: ExternalAlgorithm[];
}

/** Fetch used for external JWKS downloads (jose's custom fetch signature). */
export type JwksFetch = FetchImplementation;

/** A configured issuer with its key lookup, created on first use and then cached by jose. */
export interface ExternalIssuerRuntime {
  config: Required<Pick<ExternalIssuer, "issuer" | "audience" | "tenantClaim" | "algorithms">> &
    ExternalIssuer;
  getKey: JWTVerifyGetKey;
}

/** Validates issuer configs and indexes them by `iss`; JWKS sets are created lazily per issuer. */
export function createExternalIssuers(
  issuers: readonly ExternalIssuer[],
  ownIssuer: string,
  fetchImpl?: JwksFetch,
): Map<string, ExternalIssuerRuntime> {
  const byIssuer = new Map<string, ExternalIssuerRuntime>();
  for (const issuer of issuers) {
    const config = checkIssuer(issuer, ownIssuer);
    if (byIssuer.has(config.issuer))
      throw new TypeError(`external issuer '${config.issuer}' is configured twice`);
    byIssuer.set(config.issuer, { config, getKey: lazyRemoteKeys(new URL(config.jwksUrl), fetchImpl) });
  }
  return byIssuer;
}

/** Maps a verified external token to an identity, or null when the tenant or id claims are unusable. */
export function identityFromExternalClaims(
  config: ExternalIssuerRuntime["config"],
  payload: JWTPayload,
): KeyIdentity | null {
  const tenant = payload[config.tenantClaim];
  const keyId = typeof payload.jti === "string" ? payload.jti : payload.sub;
  if (!isIdentifier(tenant) || !isIdentifier(keyId) || typeof payload.exp !== "number") return null;
  const plan = config.planClaim ? payload[config.planClaim] : undefined;
  return freezeIdentity({
    tenant,
    keyId,
    name: null,
    scopes: [...(config.scopes ?? ["*"])],
    models: [...(config.models ?? ["*"])],
    plan: isIdentifier(plan) ? plan : (config.defaultPlan ?? null),
    limits: {},
    expiresAt: payload.exp,
    issuedAt: typeof payload.iat === "number" ? payload.iat : null,
    issuer: config.issuer,
    external: true,
  });
}

function lazyRemoteKeys(url: URL, fetchImpl: JwksFetch | undefined): JWTVerifyGetKey {
  let remote: ReturnType<typeof createRemoteJWKSet> | undefined;
  return async (header, token) => {
    remote ??= createRemoteJWKSet(url, fetchImpl ? { [customFetch]: fetchImpl } : {});
    try {
      return await remote(header, token);
    } catch (error) {
      // An unknown kid is the token's fault; anything else (network, timeout, bad JSON) is the issuer's.
      if (isKeyLookupMiss(error)) throw error;
      throw new IssuerUnavailableError();
    }
  };
}

function checkIssuer(issuer: ExternalIssuer, ownIssuer: string): ExternalIssuerRuntime["config"] {
  const where = `external issuer '${issuer.issuer}'`;
  if (!issuer.issuer) throw new TypeError("external issuer needs an issuer");
  if (issuer.issuer === ownIssuer) throw new TypeError(`${where} must differ from sluice's own issuer`);
  const audiences = Array.isArray(issuer.audience) ? issuer.audience : [issuer.audience];
  if (audiences.length === 0 || audiences.some((aud) => !aud))
    throw new TypeError(`${where} needs an audience`);
  let url: URL;
  try {
    url = new URL(issuer.jwksUrl);
  } catch {
    throw new TypeError(`${where}: jwksUrl is not a URL`);
  }
  const local = url.hostname === "localhost" || url.hostname === "127.0.0.1";
  if (url.protocol !== "https:" && !(local && url.protocol === "http:")) {
    throw new TypeError(`${where}: jwksUrl must use https`);
  }
  const algorithms = issuer.algorithms ?? ["RS256", "ES256", "EdDSA"];
  if (algorithms.length === 0 || algorithms.some((alg) => !EXTERNAL_ALGORITHMS.includes(alg))) {
    throw new TypeError(`${where}: algorithms must be among ${EXTERNAL_ALGORITHMS.join(", ")}`);
  }
  return { ...issuer, tenantClaim: issuer.tenantClaim ?? "sub", algorithms };
}

function isIdentifier(value: unknown): value is string {
  return typeof value === "string" && IDENTIFIER.test(value);
}
