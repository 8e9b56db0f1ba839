/**
 * Self-hosting: the bundle `npm run build` wrote (dist/) on several `workerd` processes behind one
 * address, all sharing one Redis (through an Upstash-compatible REST endpoint) and one Postgres
 * (through a Neon-compatible SQL-over-HTTP endpoint), with V8's heap capped like a Cloudflare
 * isolate's and the cron flush run every minute on one process. See docs/self-hosting.md.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { readBundle } from "../bundle";
import { freePort } from "../net";
import { type OutputSink, startWorkerd, type Workerd } from "../workerd";
import { type Balancer, startBalancer } from "./balancer";

/** Bindings every self-hosted gateway needs; provider secrets come on top, named by the config. */
export const REQUIRED_BINDINGS = [
  "SLUICE_CONFIG",
  "SLUICE_JWKS",
  "ADMIN_TOKEN",
  "UPSTASH_REDIS_REST_URL",
  "UPSTASH_REDIS_REST_TOKEN",
  "DATABASE_URL",
] as const;
/** Bindings passed when set. */
const OPTIONAL_BINDINGS = ["SLUICE_SIGNING_KEY", "NEON_FETCH_ENDPOINT", "METRICS_TOKEN"];

/**
 * The bindings to hand workerd from `env`: the gateway's own, then each provider secret the config
 * names. Nothing else of the environment reaches the worker. Throws naming what is missing, or
 * with loadConfig's message for a bad config.
 * @example const bindings = gatewayBindings(process.env);
 */
export function gatewayBindings(env: NodeJS.ProcessEnv): Record<string, string> {
  const missing = REQUIRED_BINDINGS.filter((name) => !env[name]);
  if (missing.length > 0)
    throw new Error(`missing settings: ${missing.join(", ")} (see docs/self-hosting.md)`);
  const config = loadConfig({ SLUICE_CONFIG: env.SLUICE_CONFIG });
  const names = new Set<string>([...REQUIRED_BINDINGS, ...OPTIONAL_BINDINGS]);
  const secrets: string[] = [];
  for (const provider of Object.values(config.providers)) {
    if (provider.api_key_secret) secrets.push(provider.api_key_secret);
  }
  const absent = secrets.filter((name) => !env[name]);
  if (absent.length > 0) throw new Error(`missing provider keys: ${absent.join(", ")}`);
  for (const name of secrets) names.add(name);
  return Object.fromEntries(
    [...names].filter((name) => env[name]).map((name) => [name, env[name] as string]),
  );
}

export interface SelfHostOptions {
  /** The repo root (node_modules holds workerd; wrangler.toml gives the compatibility settings). */
  root: string;
  /** Where `npm run build` wrote the bundle; default `<root>/dist`. */
  distDir?: string;
  bindings: Record<string, string>;
  /** How many workerd processes (default 2). */
  instances?: number;
  /** The one address: PORT and HOST of the balancer (default 127.0.0.1). */
  port: number;
  host?: string;
  /** Run the scheduled handler every minute (default true). */
  cron?: boolean;
  output?: OutputSink;
  log?: (line: string) => void;
}

export interface SelfHost {
  url: string;
  instances: Workerd[];
  /** Runs the scheduled handler once, on the first process that answers. */
  scheduled(): Promise<void>;
  stop(): Promise<void>;
}

const CRON_INTERVAL_MS = 60_000;

/**
 * Starts the processes and the balancer.
 * @example const gw = await startSelfHost({ root, bindings: gatewayBindings(process.env), port: 8787 });
 */
export async function startSelfHost(options: SelfHostOptions): Promise<SelfHost> {
  const distDir = options.distDir ?? join(options.root, "dist");
  if (!existsSync(join(distDir, "index.js")))
    throw new Error(`no bundle in ${distDir}: run \`npm run build\` first`);
  const bundle = readBundle(distDir, join(options.root, "wrangler.toml"));
  const log = options.log ?? ((line: string) => console.log(line));
  const instances: Workerd[] = [];
  const cronPorts: number[] = [];
  let balancer: Balancer | undefined;
  const stop = async () => {
    clearInterval(timer);
    await balancer?.close();
    await Promise.all(instances.map((w) => w.stop()));
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    for (let i = 0; i < (options.instances ?? 2); i++) {
      const cronPort = options.cron === false ? undefined : await freePort();
      const port = await freePort();
      instances.push(
        await startWorkerd({
          root: options.root,
          bundle,
          port,
          bindings: options.bindings,
          cronPort,
          output: options.output,
        }),
      );
      if (cronPort !== undefined) cronPorts.push(cronPort);
    }
    balancer = await startBalancer({
      upstreams: instances.map((w) => w.url),
      port: options.port,
      host: options.host,
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const scheduled = async () => {
    let lastError: unknown = new Error("started without cron");
    for (const port of cronPorts) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/`);
        const text = await res.text();
        if (res.ok) return;
        lastError = new Error(`scheduled handler: ${text}`);
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  };
  if (cronPorts.length > 0) {
    timer = setInterval(
      () => scheduled().catch((e: Error) => log(`sluice: cron run failed: ${e.message}`)),
      CRON_INTERVAL_MS,
    );
    timer.unref();
  }
  return { url: balancer.url, instances, scheduled, stop };
}
