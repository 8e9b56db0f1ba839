/**
 * The worker served like production, for `npm run dev` and the tests: the bundle a deploy would
 * upload (`wrangler deploy --dry-run`), on the `workerd` binary, with live reload on source
 * changes and the cron trigger run by a timer (workerd has no cron of its own).
 */
import { type FSWatcher, mkdtempSync, rmSync, watch } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative } from "node:path";
import { type BuildTarget, type Bundle, buildWorker } from "./bundle";
import { freePort } from "./net";
import { type OutputSink, startWorkerd, type Workerd } from "./workerd";

/** A first build started ahead of serving (e.g. while the local stack starts), in its own scratch folder. */
export interface PendingBuild {
  /** What is built; `root` is also where node_modules holds wrangler and workerd. */
  target: BuildTarget;
  scratch: string;
  bundle: Promise<Bundle>;
}

/**
 * Starts building `target` now; `serveBuiltWorker` serves the result and owns its folder.
 * @example const build = startBuild({ root }); const stack = await startStack(); serveBuiltWorker({ build, ... });
 */
export function startBuild(target: BuildTarget): PendingBuild {
  const scratch = mkdtempSync(join(tmpdir(), "sluice-worker-"));
  const bundle = buildWorker(target, join(scratch, "build-1"));
  // Awaited later: a failure meanwhile must not count as an unhandled rejection.
  bundle.catch(() => {});
  return { target, scratch, bundle };
}

/** Removes a pending build's folder once it has finished, for a build that will not be served. */
export function discardBuild(build: PendingBuild): void {
  void build.bundle
    .catch(() => undefined)
    .then(() => rmSync(build.scratch, { recursive: true, force: true }));
}

export interface BuiltWorkerOptions {
  /** The first build, from `startBuild`; later ones (on changes) go to the same scratch folder. */
  build: PendingBuild;
  /** Binding name → value, handed to workerd through its environment. */
  bindings: Record<string, string>;
  port: number;
  output: OutputSink;
  /** Rebuild and restart on changes under this folder (and to the wrangler.toml). */
  watchDir?: string;
  /** Run the scheduled handler every minute, as the `* * * * *` trigger in wrangler.toml does on Cloudflare. */
  cron?: boolean;
  /** Where reload and cron lines go (one line each); defaults to console.log. */
  log?: (line: string) => void;
}

/** The served worker; `pid` changes on every reload. */
export interface BuiltWorker {
  url: string;
  pid(): number;
  /** Resolves when workerd exits on its own: not on a reload, not through `stop`. */
  exited: Promise<number | null>;
  /** Runs the scheduled handler once (needs `cron`); rejects unless its outcome is "ok". */
  scheduled(): Promise<void>;
  stop(): Promise<void>;
}

/** Quiet time after the last change before a rebuild starts (editors write in bursts). */
const DEBOUNCE_MS = 150;
const CRON_INTERVAL_MS = 60_000;

/** Editor swap and backup files: never a reason to rebuild. */
function isEditorNoise(file: string): boolean {
  const name = basename(file);
  return name.startsWith(".") || name.startsWith("#") || name.endsWith("~") || /\.sw[a-p]$/.test(name);
}

/**
 * Builds the worker, serves it on 127.0.0.1:`port` and, with `watchDir`, keeps it current: each
 * change rebuilds into a fresh folder and restarts workerd on the same port, printing one line;
 * a build that fails (or a worker that does not start) prints why and the previous build keeps
 * serving.
 * @example const w = await serveBuiltWorker({ build: startBuild({ root }), bindings, port: 8787, output: "inherit" });
 */
export async function serveBuiltWorker(options: BuiltWorkerOptions): Promise<BuiltWorker> {
  const log = options.log ?? ((line: string) => console.log(line));
  const { target, scratch } = options.build;
  const cronPort = options.cron ? await freePort() : undefined;
  let builds = 1;
  const build = () => buildWorker(target, join(scratch, `build-${++builds}`));
  const start = (bundle: Bundle) =>
    startWorkerd({
      root: target.root,
      bundle,
      port: options.port,
      bindings: options.bindings,
      cronPort,
      output: options.output,
    });

  let current: { bundle: Bundle; workerd: Workerd };
  try {
    const bundle = await options.build.bundle;
    current = { bundle, workerd: await start(bundle) };
  } catch (err) {
    rmSync(scratch, { recursive: true, force: true });
    throw err;
  }

  let stopping = false;
  let reloading = false;
  let reportExit: (code: number | null) => void = () => {};
  const exited = new Promise<number | null>((resolve) => {
    reportExit = resolve;
  });
  const follow = (workerd: Workerd) => {
    void workerd.exited.then((code) => {
      if (!stopping && !reloading && current.workerd === workerd) reportExit(code);
    });
  };
  follow(current.workerd);

  /** Swaps in a new build; any failure leaves the previous build serving. */
  const reload = async (changed: string[]) => {
    const startedAt = Date.now();
    let bundle: Bundle;
    try {
      bundle = await build();
    } catch (err) {
      log(`sluice: rebuild failed, still serving the previous build.\n${(err as Error).message}`);
      return;
    }
    if (stopping) return;
    const previous = current;
    reloading = true;
    try {
      await previous.workerd.stop();
      try {
        current = { bundle, workerd: await start(bundle) };
      } catch (err) {
        log(`sluice: the new build did not start, back to the previous one.\n${(err as Error).message}`);
        rmSync(bundle.dir, { recursive: true, force: true });
        current = { bundle: previous.bundle, workerd: await start(previous.bundle) };
      }
    } catch (err) {
      log(`sluice: could not restart workerd: ${(err as Error).message}`);
      reportExit(1);
      return;
    } finally {
      reloading = false;
    }
    follow(current.workerd);
    if (current.bundle === bundle) {
      rmSync(previous.bundle.dir, { recursive: true, force: true });
      const what = changed.length > 3 ? `${changed.slice(0, 3).join(", ")}, …` : changed.join(", ");
      log(`sluice: reloaded in ${Date.now() - startedAt} ms (${what})`);
    }
  };

  // One reload at a time; changes during a reload are collected for the next one.
  const changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const schedule = (file: string) => {
    if (stopping || isEditorNoise(file)) return;
    changed.add(relative(target.root, file));
    clearTimeout(timer);
    timer = setTimeout(kick, DEBOUNCE_MS);
  };
  const kick = () => {
    if (running || changed.size === 0 || stopping) return;
    const files = [...changed];
    changed.clear();
    running = reload(files).finally(() => {
      running = undefined;
      kick();
    });
  };
  const watchers: FSWatcher[] = [];
  if (options.watchDir !== undefined) {
    const watchDir = options.watchDir;
    watchers.push(
      watch(watchDir, { recursive: true }, (_event, file) => schedule(join(watchDir, String(file)))),
    );
    const configPath = target.configPath ?? join(target.root, "wrangler.toml");
    // The folder, not the file: editors replace a file on save, which ends a watch on the file.
    watchers.push(
      watch(dirname(configPath), (_event, file) => {
        if (file === basename(configPath)) schedule(configPath);
      }),
    );
  }

  const scheduled = async () => {
    if (cronPort === undefined) throw new Error("serveBuiltWorker: started without cron");
    const res = await fetch(`http://127.0.0.1:${cronPort}/`);
    const result = await res.text();
    if (!res.ok) throw new Error(`scheduled handler: ${result}`);
  };
  const cronTimer =
    cronPort === undefined
      ? undefined
      : setInterval(() => {
          if (reloading || stopping) return;
          scheduled().catch((err: Error) => log(`sluice: cron run failed: ${err.message}`));
        }, CRON_INTERVAL_MS);
  cronTimer?.unref();

  return {
    url: current.workerd.url,
    pid: () => current.workerd.pid,
    exited,
    scheduled,
    async stop() {
      stopping = true;
      clearTimeout(timer);
      clearInterval(cronTimer);
      for (const watcher of watchers) watcher.close();
      await running;
      await current.workerd.stop();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}
