import { spawn } from "node:child_process";

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs an agent CLI (Claude Code, Codex) with stdin closed (else `codex exec` waits for more
 * input) and a deadline after which it is killed, collecting what it printed.
 * @example const { code, stdout } = await runCli(CODEX, ["exec", "say hello"], env, home, 60_000)
 */
export function runCli(
  bin: string,
  args: string[],
  env: Record<string, string | undefined>,
  cwd: string,
  timeoutMs: number,
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
