/** Starts bench/services.ts (the mock, or the backing stack) in its own Node process, for the bench and the soak. */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Child, startChild } from "./children";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Starts bench/services.ts in a child Node and waits for its BENCH_READY line. */
export async function startService<T>(args: string[]): Promise<{ child: Child; ready: T }> {
  const child = startChild(
    process.execPath,
    ["--import", "tsx", join(ROOT, "bench", "services.ts"), ...args],
    {
      cwd: ROOT,
      env: process.env,
    },
  );
  const ready = await new Promise<T>((resolvePromise, reject) => {
    let buffered = "";
    const timer = setTimeout(() => reject(new Error("timed out after 60 s")), 60_000);
    child.process.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split("\n").find((l) => l.startsWith("BENCH_READY "));
      if (line === undefined) return;
      clearTimeout(timer);
      resolvePromise(JSON.parse(line.slice("BENCH_READY ".length)) as T);
    });
    child.process.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with code ${code}`));
    });
  }).catch(async (err: Error) => {
    await child.stop();
    throw new Error(`bench: services.ts ${args[0]} ${err.message}:\n${child.output().trim()}`);
  });
  return { child, ready };
}
