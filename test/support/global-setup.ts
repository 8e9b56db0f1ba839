import type { TestProject } from "vitest/node";
import { startStack } from "../../local/stack";
import { generateSigningKey, importSigningKey, mintKey } from "../../src/auth";

declare module "vitest" {
  export interface ProvidedContext {
    workerBindings: Record<string, string>;
  }
}

/** The admin token tests use; the worker compares it in constant time like any other. */
export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789abcdef";

/**
 * Starts the local stack once per run (real redis-server, Postgres: DATABASE_URL or PGlite, the
 * mock provider) and hands its URLs, a signing key and a demo key to the worker's bindings.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stack = await startStack({ databaseUrl: process.env.DATABASE_URL });
  const pair = await generateSigningKey("test-1");
  const signer = await importSigningKey(pair.privateJwk);
  const demo = await mintKey(
    signer,
    { tenant: "demo", name: "demo key" },
    { issuer: "sluice", audience: "sluice" },
  );
  project.provide("workerBindings", {
    ...stack.bindings,
    SLUICE_JWKS: JSON.stringify({ keys: [pair.publicJwk] }),
    SLUICE_SIGNING_KEY: JSON.stringify(pair.privateJwk),
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    SLUICE_DEMO_KEY: demo.token,
  });
  return () => stack.stop();
}
