import { base64url, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { generateSigningKey, importSigningKey, KEY_PREFIX, mintKey, type SigningKey } from "../../src/auth";
import { bindings, callWorker, chat, createKey, type ErrorJson } from "../admin/support";

/**
 * Every forgery the issue lists, sent through the HTTP API: each gets a 401 with an OpenAI-shaped
 * `invalid_api_key` body that says nothing about which check failed and never echoes the token.
 */

const MINT = { issuer: "sluice", audience: "sluice" };
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The worker's real signing key (from the bindings): forgeries that need a genuine signature use it. */
let trusted: SigningKey;
/** A genuine key from the admin API, as the control and as material to tamper with. */
let genuine: string;
const forgeries: [string, () => Promise<string> | string][] = [];

const encode = (value: object) => base64url.encode(JSON.stringify(value));

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = nowSeconds();
  return {
    iss: "sluice",
    aud: "sluice",
    sub: "forger",
    jti: crypto.randomUUID(),
    iat,
    exp: iat + 3600,
    ...overrides,
  };
}

async function signedByTrusted(payload: Record<string, unknown>): Promise<string> {
  const jws = await new SignJWT(payload)
    .setProtectedHeader({ alg: "EdDSA", kid: trusted.kid })
    .sign(trusted.key);
  return KEY_PREFIX + jws;
}

async function hs256(secret: Uint8Array): Promise<string> {
  const jws = await new SignJWT(claims()).setProtectedHeader({ alg: "HS256", kid: trusted.kid }).sign(secret);
  return KEY_PREFIX + jws;
}

beforeAll(async () => {
  trusted = await importSigningKey(bindings.SLUICE_SIGNING_KEY as string);
  genuine = (await createKey(callWorker, { expires_in: "1h" })).key;
  const publicJwk = (JSON.parse(bindings.SLUICE_JWKS as string) as { keys: { x: string }[] }).keys[0];
  if (!publicJwk) throw new Error("no public key in SLUICE_JWKS");

  forgeries.push(
    ["alg none", () => `${KEY_PREFIX}${encode({ alg: "none", kid: trusted.kid })}.${encode(claims())}.`],
    ["alg none without the prefix", () => `${encode({ alg: "none" })}.${encode(claims())}.`],
    ["HS256 keyed with the public key's bytes", () => hs256(base64url.decode(publicJwk.x))],
    [
      "HS256 keyed with the public JWK text",
      () => hs256(new TextEncoder().encode(JSON.stringify(publicJwk))),
    ],
    [
      "an unknown kid",
      async () =>
        mintKey(
          await importSigningKey((await generateSigningKey("ghost")).privateJwk),
          { tenant: "forger" },
          MINT,
        ).then((m) => m.token),
    ],
    [
      "another key claiming the trusted kid",
      async () =>
        mintKey(
          await importSigningKey((await generateSigningKey(trusted.kid)).privateJwk),
          { tenant: "forger" },
          MINT,
        ).then((m) => m.token),
    ],
    [
      "a tampered payload (another tenant, same signature)",
      () => {
        const [header, payload, signature] = genuine.slice(KEY_PREFIX.length).split(".") as [
          string,
          string,
          string,
        ];
        const altered = { ...JSON.parse(new TextDecoder().decode(base64url.decode(payload))), sub: "victim" };
        return `${KEY_PREFIX}${header}.${encode(altered)}.${signature}`;
      },
    ],
    ["a stripped signature", () => genuine.slice(0, genuine.lastIndexOf(".") + 1)],
    [
      "an expired key",
      async () =>
        (
          await mintKey(
            trusted,
            { tenant: "forger" },
            { ...MINT, expiresInSeconds: 3600, now: Date.now() - 2 * 3600_000 },
          )
        ).token,
    ],
    [
      "a key not valid yet",
      async () => (await mintKey(trusted, { tenant: "forger", notBefore: nowSeconds() + 3600 }, MINT)).token,
    ],
    ["a key without jti", () => signedByTrusted(claims({ jti: undefined }))],
    ["a key without sub", () => signedByTrusted(claims({ sub: undefined }))],
    ["a key without iat", () => signedByTrusted(claims({ iat: undefined }))],
    [
      "a key issued ten years ahead",
      () => signedByTrusted(claims({ iat: nowSeconds() + 10 * 365 * 86_400, exp: undefined })),
    ],
    ["a wrong issuer", () => signedByTrusted(claims({ iss: "someone-else" }))],
    ["a wrong audience", () => signedByTrusted(claims({ aud: "someone-else" }))],
    [
      "an oversized (> 8 KB) but genuinely signed key",
      () => signedByTrusted(claims({ padding: "x".repeat(8 * 1024) })),
    ],
    ["garbage behind the prefix", () => `${KEY_PREFIX}not-a-jwt`],
    ["a random string", () => "sk-proj-0123456789abcdef"],
  );
});

async function expectRefused(res: Response, token: string, what: string): Promise<void> {
  expect(res.status, what).toBe(401);
  const text = await res.text();
  const body = JSON.parse(text) as ErrorJson;
  expect(Object.keys(body), what).toEqual(["error"]);
  expect(body.error, what).toMatchObject({
    type: "authentication_error",
    code: "invalid_api_key",
    param: null,
  });
  expect(body.error.message, what).toMatch(/^[^\n]+$/);
  expect(text, what).not.toMatch(/\bat .+:\d+:\d+|Error:/);
  if (token.length > 20) expect(text, what).not.toContain(token.slice(-20));
}

describe("forged and invalid keys through the HTTP API", () => {
  it("control: the genuine key works", async () => {
    expect((await callWorker("/v1/models", { headers: { authorization: `Bearer ${genuine}` } })).status).toBe(
      200,
    );
  });

  it("each forgery gets 401 invalid_api_key on /v1/models, as Bearer and as x-api-key", async () => {
    expect(forgeries.length).toBeGreaterThanOrEqual(19);
    for (const [what, make] of forgeries) {
      const token = await make();
      await expectRefused(
        await callWorker("/v1/models", { headers: { authorization: `Bearer ${token}` } }),
        token,
        what,
      );
      await expectRefused(
        await callWorker("/v1/models", { headers: { "x-api-key": token } }),
        token,
        `${what} (x-api-key)`,
      );
    }
  });

  it("each forgery gets 401 on chat, before the body is looked at", async () => {
    for (const [what, make] of forgeries) {
      const token = await make();
      await expectRefused(await callWorker("/v1/chat/completions", chat(token)), token, what);
    }
  });

  it("a missing key gets 401 saying how to send one", async () => {
    const missing: Record<string, string>[] = [
      {},
      { authorization: "Bearer" },
      { authorization: "Basic abc" },
      { "x-api-key": " " },
    ];
    for (const headers of missing) {
      const res = await callWorker("/v1/models", { headers });
      expect(res.status, JSON.stringify(headers)).toBe(401);
      const body = (await res.json()) as ErrorJson;
      expect(body.error).toMatchObject({ code: "invalid_api_key", type: "authentication_error" });
    }
  });
});
