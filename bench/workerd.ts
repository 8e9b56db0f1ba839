/**
 * Serves a built bundle with the `workerd` binary itself (not `wrangler dev`, whose extra proxy
 * and logging hop cost many times the worker's own CPU): one worker, one socket on 127.0.0.1.
 * The config and the process handling are local/workerd.ts's, shared with `npm run dev`.
 */
import type { Bundle } from "../local/bundle";
import { freePort } from "../local/net";
import { startWorkerd, type Workerd } from "../local/workerd";

export { V8_FLAGS, type Workerd, workerdBinary } from "../local/workerd";

/**
 * Starts `workerd serve` on a free port and waits until it answers HTTP; its output is kept for
 * error messages, not printed.
 * @example const w = await serveBundle(root, bundle, { UPSTREAM_URL: mock.url }); ...; await w.stop();
 */
export async function serveBundle(
  root: string,
  bundle: Bundle,
  bindings: Record<string, string>,
  extraArgs: string[] = [],
): Promise<Workerd> {
  try {
    return await startWorkerd({
      root,
      bundle,
      port: await freePort(),
      bindings,
      extraArgs,
      output: "ignore",
    });
  } catch (err) {
    throw new Error(`bench: ${(err as Error).message}`);
  }
}
