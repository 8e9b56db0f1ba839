import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { createKeyVerifier, parseJwks } from "../../src/auth";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(execFile);

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `local/cli/keys.ts` the way `npm run keys` does, with only the env given here (plus PATH). */
async function keys(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ["--import", "tsx", "local/cli/keys.ts", ...args],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? "", ...env },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

/** Reads `NAME='value'` lines as printed by gen-signing-key. */
function envLines(stdout: string): Record<string, string> {
  const entries = stdout
    .split("\n")
    .map((line) => /^([A-Z_]+)='(.*)'$/.exec(line))
    .filter((match) => match !== null)
    .map((match) => [match[1], match[2]]);
  return Object.fromEntries(entries);
}

describe("npm run keys", () => {
  it("gen-signing-key → mint → inspect, and the minted key verifies with src/auth", async () => {
    const gen = await keys(["gen-signing-key", "--kid", "cli-1"]);
    expect(gen.code).toBe(0);
    const env = envLines(gen.stdout);
    expect(JSON.parse(env.SLUICE_SIGNING_KEY ?? "")).toMatchObject({
      kid: "cli-1",
      alg: "EdDSA",
      kty: "OKP",
    });
    const jwks = parseJwks(env.SLUICE_JWKS ?? "");
    expect(jwks.keys.map((key) => key.kid)).toEqual(["cli-1"]);

    const minted = await keys(
      ["mint", "--tenant", "acme", "--name", "ci bot", "--models", "gpt-4o*,claude-*", "--rpm", "60"].concat([
        "--budget-day",
        "2.5",
        "--cache-max-ttl",
        "0",
        "--plan",
        "pro",
        "--expires-in",
        "1h",
        "--json",
      ]),
      { SLUICE_SIGNING_KEY: env.SLUICE_SIGNING_KEY ?? "" },
    );
    expect(minted.code).toBe(0);
    const { id, key } = JSON.parse(minted.stdout) as { id: string; key: string };
    expect(key.startsWith("sk-sluice-")).toBe(true);

    const inspected = await keys(["inspect", key]);
    expect(inspected.code).toBe(0);
    const shown = JSON.parse(inspected.stdout);
    expect(shown).toMatchObject({
      verified: false,
      header: { alg: "EdDSA", kid: "cli-1" },
      claims: {
        sub: "acme",
        jti: id,
        name: "ci bot",
        plan: "pro",
        limits: { rpm: 60, budget_usd_day: 2.5, cache_max_ttl_seconds: 0 },
      },
    });
    expect(shown.claims.exp - shown.claims.iat).toBe(3600);
    const signature = key.split(".")[2] as string;
    expect(inspected.stdout).not.toContain(signature);

    const verifier = createKeyVerifier({ jwks, issuer: "sluice", audience: "sluice" });
    const result = await verifier.verify(key);
    expect(result.ok && result.identity).toMatchObject({
      tenant: "acme",
      keyId: id,
      models: ["gpt-4o*", "claude-*"],
      limits: { rpm: 60, budget_usd_day: 2.5, cache_max_ttl_seconds: 0 },
      plan: "pro",
    });
  });

  it("mint prints id and key by default and honours SLUICE_ISSUER / SLUICE_AUDIENCE", async () => {
    const gen = JSON.parse(
      (await keys(["gen-signing-key", "--kid", "cli-2", "--alg", "ES256", "--json"])).stdout,
    );
    const minted = await keys(["mint", "--tenant", "t-9"], {
      SLUICE_SIGNING_KEY: JSON.stringify(gen.privateJwk),
      SLUICE_ISSUER: "https://gw.example",
      SLUICE_AUDIENCE: "gw",
    });
    expect(minted.code).toBe(0);
    const id = /^id: +(\S+)$/m.exec(minted.stdout)?.[1];
    const key = /^key: +(sk-sluice-\S+)$/m.exec(minted.stdout)?.[1];
    expect(minted.stdout).toMatch(/^expires: +never$/m);

    const verifier = createKeyVerifier({ jwks: gen.jwks, issuer: "https://gw.example", audience: "gw" });
    const result = await verifier.verify(key);
    expect(result.ok && result.identity.keyId).toBe(id);
    const wrongAudience = createKeyVerifier({
      jwks: gen.jwks,
      issuer: "https://gw.example",
      audience: "sluice",
    });
    expect(await wrongAudience.verify(key)).toEqual({ ok: false, reason: "audience" });
  });

  it("gen-signing-key --append keeps the old kid verifying (signing-key rotation)", async () => {
    const old = JSON.parse((await keys(["gen-signing-key", "--kid", "old", "--json"])).stdout);
    const oldKey = JSON.parse(
      (
        await keys(["mint", "--tenant", "acme", "--json"], {
          SLUICE_SIGNING_KEY: JSON.stringify(old.privateJwk),
        })
      ).stdout,
    ).key;
    const rotated = await keys(["gen-signing-key", "--kid", "new", "--append", "--json"], {
      SLUICE_JWKS: JSON.stringify(old.jwks),
    });
    const { jwks } = JSON.parse(rotated.stdout);
    expect(jwks.keys.map((key: { kid: string }) => key.kid)).toEqual(["new", "old"]);
    const verifier = createKeyVerifier({
      jwks: parseJwks(JSON.stringify(jwks)),
      issuer: "sluice",
      audience: "sluice",
    });
    expect((await verifier.verify(oldKey)).ok).toBe(true);
  });

  it("fails clearly, and without echoing the private key, on bad input", async () => {
    const gen = JSON.parse((await keys(["gen-signing-key", "--json"])).stdout);
    const secret = JSON.stringify(gen.privateJwk);

    const noSecret = await keys(["mint", "--tenant", "acme"]);
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toContain("SLUICE_SIGNING_KEY is not set");

    const badLimit = await keys(["mint", "--tenant", "acme", "--rpm", "1.5"], { SLUICE_SIGNING_KEY: secret });
    expect(badLimit.code).toBe(1);
    expect(badLimit.stderr).toContain("limits.rpm");
    expect(badLimit.stderr + badLimit.stdout).not.toContain(gen.privateJwk.d);

    const brokenSecret = await keys(["mint", "--tenant", "acme"], { SLUICE_SIGNING_KEY: `${secret}}` });
    expect(brokenSecret.code).toBe(1);
    expect(brokenSecret.stderr).toContain("not valid JSON");
    expect(brokenSecret.stderr).not.toContain(gen.privateJwk.d);

    const noTenant = await keys(["mint"], { SLUICE_SIGNING_KEY: secret });
    expect(noTenant.code).toBe(2);
    expect(noTenant.stderr).toContain("--tenant");

    expect(
      (await keys(["mint", "--tenant", "a", "--expires-in", "soon"], { SLUICE_SIGNING_KEY: secret })).code,
    ).toBe(2);
    expect((await keys(["inspect", "not-a-key"])).code).toBe(1);
    expect((await keys(["frobnicate"])).code).toBe(2);
    const help = await keys(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("gen-signing-key");
  });

  it("mint refuses a plan the config does not define, prototype names included (issue 10)", async () => {
    const secret = JSON.stringify(JSON.parse((await keys(["gen-signing-key", "--json"])).stdout).privateJwk);
    for (const plan of ["toString", "__proto__", "constructor", "nope"]) {
      const refused = await keys(["mint", "--tenant", "acme", "--plan", plan], {
        SLUICE_SIGNING_KEY: secret,
      });
      expect(refused.code, plan).toBe(2);
      expect(refused.stderr).toContain(`--plan '${plan}' is not a plan`);
      expect(refused.stdout).not.toContain("sk-sluice-");
    }
    // The plans of $SLUICE_CONFIG, when it is set.
    const config = JSON.stringify({ plans: { team: { rpm: 5 } }, default_plan: "team" });
    const team = await keys(["mint", "--tenant", "acme", "--plan", "team", "--json"], {
      SLUICE_SIGNING_KEY: secret,
      SLUICE_CONFIG: config,
    });
    expect(team.code).toBe(0);
    expect(JSON.parse(team.stdout).claims.plan).toBe("team");
    const pro = await keys(["mint", "--tenant", "acme", "--plan", "pro"], {
      SLUICE_SIGNING_KEY: secret,
      SLUICE_CONFIG: config,
    });
    expect(pro.code).toBe(2);
  });
});
