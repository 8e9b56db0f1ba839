// Operator CLI for sluice keys: `npm run keys -- <command>`. Arguments are parsed with node:util's
// parseArgs, which is built into Node (>= 18.3), so the CLI needs no argument-parsing dependency.
// All key logic lives in src/auth; this file only reads arguments and env and prints.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  generateSigningKey,
  InvalidKeyClaimsError,
  InvalidSigningKeyError,
  importSigningKey,
  inspectKey,
  type KeyClaimsInput,
  type KeyLimits,
  mintKey,
  parseDurationSeconds,
  parseJwks,
  SIGNING_ALGORITHMS,
  type SigningAlgorithm,
} from "../../src/auth";
import { ConfigError, loadConfig, ownValue } from "../../src/config";

const USAGE = `Usage: npm run keys -- <command> [options]

Commands:
  gen-signing-key [--kid K] [--alg EdDSA|ES256] [--append] [--json]
      Prints a new private signing key (SLUICE_SIGNING_KEY, a secret:
      \`wrangler secret put SLUICE_SIGNING_KEY\`) and the public key set (SLUICE_JWKS).
      --append adds the new public key to the set in $SLUICE_JWKS (signing-key rotation:
      publish both, mint with the new key, drop the old kid once its keys have expired).

  mint --tenant T [--name N] [--models a,b] [--scopes a,b] [--plan P]
       [--rpm N] [--tpm N] [--concurrency N] [--budget-day USD] [--budget-month USD]
       [--cache-max-ttl SECONDS] [--expires-in 30d] [--key-id ID] [--json]
      Signs a key offline with the private JWK in $SLUICE_SIGNING_KEY, for issuer
      $SLUICE_ISSUER and audience $SLUICE_AUDIENCE (both default "sluice").
      Without --expires-in the key does not expire. Durations: 45s, 90m, 12h, 30d, 2w.
      --plan must name a plan of $SLUICE_CONFIG (the default plans free, pro and
      enterprise when it is unset), as the admin API requires. --cache-max-ttl caps how long
      the response cache keeps the key's answers (0: never cached); it only lowers its plan's.

  inspect <key | ->
      Decodes a key's header and claims WITHOUT verifying it; "-" reads the key from stdin
      (keeps it out of shell history). The signature is never printed.

  help, --help    This text.
`;

/** A mistake in how the CLI was called: print it with a hint, exit 2. */
class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case "gen-signing-key":
      return genSigningKey(rest);
    case "mint":
      return mint(rest);
    case "inspect":
      return inspect(rest);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return;
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

async function genSigningKey(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      kid: { type: "string" },
      alg: { type: "string", default: "EdDSA" },
      append: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    },
  });
  if (!SIGNING_ALGORITHMS.includes(values.alg as SigningAlgorithm)) {
    throw new UsageError(`--alg must be one of ${SIGNING_ALGORITHMS.join(", ")}`);
  }
  const { privateJwk, publicJwk } = await generateSigningKey(values.kid, values.alg as SigningAlgorithm);
  const existing = values.append ? parseJwks(requiredEnv("SLUICE_JWKS")).keys : [];
  // Newest first, so the key to mint with is easy to spot.
  const jwks = parseJwks(JSON.stringify({ keys: [publicJwk, ...existing] }));

  if (values.json) {
    print(JSON.stringify({ kid: publicJwk.kid, privateJwk, jwks }, null, 2));
    return;
  }
  print(`SLUICE_SIGNING_KEY='${JSON.stringify(privateJwk)}'`);
  print(`SLUICE_JWKS='${JSON.stringify(jwks)}'`);
  note(
    `# kid ${publicJwk.kid}. SLUICE_SIGNING_KEY is a secret: \`wrangler secret put SLUICE_SIGNING_KEY\`,` +
      " or .dev.vars locally; never commit it.\n# SLUICE_JWKS is public: the worker verifies keys with it.",
  );
}

async function mint(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      tenant: { type: "string" },
      name: { type: "string" },
      models: { type: "string" },
      scopes: { type: "string" },
      plan: { type: "string" },
      rpm: { type: "string" },
      tpm: { type: "string" },
      concurrency: { type: "string" },
      "budget-day": { type: "string" },
      "budget-month": { type: "string" },
      "cache-max-ttl": { type: "string" },
      "expires-in": { type: "string" },
      "key-id": { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  if (!values.tenant) throw new UsageError("mint needs --tenant");
  if (values.plan !== undefined) requireKnownPlan(values.plan);
  const limits: KeyLimits = {
    rpm: numberFlag("rpm", values.rpm),
    tpm: numberFlag("tpm", values.tpm),
    concurrency: numberFlag("concurrency", values.concurrency),
    budget_usd_day: numberFlag("budget-day", values["budget-day"]),
    budget_usd_month: numberFlag("budget-month", values["budget-month"]),
    cache_max_ttl_seconds: numberFlag("cache-max-ttl", values["cache-max-ttl"]),
  };
  // Undefined fields are fine here: mintKey treats them as absent.
  const input: KeyClaimsInput = {
    tenant: values.tenant,
    keyId: values["key-id"],
    name: values.name,
    models: listFlag(values.models),
    scopes: listFlag(values.scopes),
    plan: values.plan,
    limits: Object.values(limits).some((limit) => limit !== undefined) ? limits : undefined,
  };
  let expiresInSeconds: number | undefined;
  if (values["expires-in"] !== undefined) {
    expiresInSeconds = parseDurationSeconds(values["expires-in"]) ?? undefined;
    if (expiresInSeconds === undefined)
      throw new UsageError("--expires-in must look like 45s, 90m, 12h, 30d or 2w");
  }

  const signer = await importSigningKey(requiredEnv("SLUICE_SIGNING_KEY"));
  const { token, claims } = await mintKey(signer, input, {
    issuer: process.env.SLUICE_ISSUER || "sluice",
    audience: process.env.SLUICE_AUDIENCE || "sluice",
    expiresInSeconds,
  });

  if (values.json) {
    print(JSON.stringify({ id: claims.jti, key: token, claims }, null, 2));
    return;
  }
  print(`id:      ${claims.jti}`);
  print(`tenant:  ${claims.sub}`);
  print(`expires: ${claims.exp === undefined ? "never" : isoDate(claims.exp)}`);
  print(`key:     ${token}`);
  note("# The key is shown once: hand it over now. Revoke it by id.");
}

function inspect(args: string[]): void {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals.length !== 1) throw new UsageError("inspect takes one key (or - to read it from stdin)");
  const key = positionals[0] === "-" ? readFileSync(0, "utf8") : (positionals[0] as string);
  const { verified, header, claims } = inspectKey(key);
  const times = Object.fromEntries(
    (["iat", "nbf", "exp"] as const)
      .filter((c) => typeof claims[c] === "number")
      .map((c) => [c, isoDate(claims[c] as number)]),
  );
  print(JSON.stringify({ verified, header, claims, times }, null, 2));
}

/**
 * Refuses a plan the gateway's config does not define, as the admin API does: a key naming no
 * plan of the config would run on the default plan, not on the limits its minter meant.
 */
function requireKnownPlan(plan: string): void {
  const { plans } = loadConfig({ SLUICE_CONFIG: process.env.SLUICE_CONFIG });
  if (ownValue(plans, plan) === undefined) {
    throw new UsageError(
      `--plan '${plan}' is not a plan of $SLUICE_CONFIG; known plans: ${Object.keys(plans).join(", ")}`,
    );
  }
}

function numberFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (value.trim() === "" || !Number.isFinite(number)) throw new UsageError(`--${name} must be a number`);
  return number;
}

function listFlag(value: string | undefined): string[] | undefined {
  return value
    ?.split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new UsageError(`${name} is not set (see \`npm run keys -- gen-signing-key\`)`);
  return value;
}

function isoDate(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString();
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  // Known errors carry messages written to be safe to show (no key material); anything else is a bug.
  if (error instanceof UsageError || (error as { code?: string })?.code?.startsWith("ERR_PARSE_ARGS")) {
    note(`keys: ${(error as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else if (
    error instanceof InvalidKeyClaimsError ||
    error instanceof InvalidSigningKeyError ||
    error instanceof ConfigError ||
    error instanceof TypeError
  ) {
    note(`keys: ${error.message}`);
    process.exitCode = 1;
  } else {
    note(`keys: unexpected failure: ${error instanceof Error ? error.name : "error"}`);
    process.exitCode = 1;
  }
});
