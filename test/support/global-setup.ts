import type { TestProject } from "vitest/node";
import { freePort } from "../../local/net";
import { startStack } from "../../local/stack";
import { prebuildWorker, type ServedWorker, serveWorker } from "../../local/worker";
import { generateSigningKey, importSigningKey, mintKey } from "../../src/auth";

declare module "vitest" {
  export interface ProvidedContext {
    workerBindings: Record<string, string>;
    /** The worker served over HTTP (the built bundle on workerd, like `npm run dev`), for Node tests. */
    gatewayUrl: string;
  }
}

/** The admin token tests use; the worker compares it in constant time like any other. */
export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789abcdef";

/**
 * Starts the local stack once per run (real redis-server, Postgres: DATABASE_URL or PGlite, the
 * mock provider) and hands its URLs, a signing key and a demo key to the worker's bindings.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The worker's bundle builds while the stack starts.
  const prebuilt = prebuildWorker();
  const stack = await startStack({ databaseUrl: process.env.DATABASE_URL });
  console.log(`local stack: Redis ${stack.redisKind}, Postgres ${stack.postgresKind}`);
  const pair = await generateSigningKey("test-1");
  const signer = await importSigningKey(pair.privateJwk);
  const demo = await mintKey(
    signer,
    { tenant: "demo", name: "demo key" },
    { issuer: "sluice", audience: "sluice" },
  );
  const bindings = {
    ...stack.bindings,
    SLUICE_JWKS: JSON.stringify({ keys: [pair.publicJwk] }),
    SLUICE_SIGNING_KEY: JSON.stringify(pair.privateJwk),
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    SLUICE_DEMO_KEY: demo.token,
  };
  project.provide("workerBindings", bindings);
  let worker: ServedWorker | undefined;
  try {
    worker = await serveWorker({ vars: bindings, port: await freePort(), quiet: true, prebuilt });
  } catch (err) {
    await stack.stop();
    throw err;
  }
  project.provide("gatewayUrl", worker.url);
  return async () => {
    await worker?.stop();
    await stack.stop();
  };
}
