import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Where screenshots are kept (git-ignored). */
export const ARTIFACTS = `${ROOT}artifacts`;

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Why the browser tests cannot run here, or undefined when they can. Without Chromium (a machine
 * with only Node) they are skipped with this reason; CI (CI=true) installs Chromium, so there a
 * missing browser is a failure instead.
 */
export const NO_CHROMIUM: string | undefined =
  !existsSync(CHROMIUM) && process.env.CI !== "true"
    ? `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`
    : undefined;

/** " (skipped: reason)" for a describe title when there is no browser, else "". */
export const skipNote = NO_CHROMIUM ? ` (skipped: ${NO_CHROMIUM})` : "";

if (NO_CHROMIUM) console.warn(`browser tests skipped: ${NO_CHROMIUM}`);

/** Headless Chromium; fails with the install hint when it is missing. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium`);
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}

/** The path for a screenshot named `name`, its folder created. */
export function screenshotPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return `${ARTIFACTS}/${name}.png`;
}
