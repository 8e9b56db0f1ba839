import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    workerBindings: Record<string, string>;
  }
}

/** Starts the local stack once per run and provides its URLs (filled in by the launcher). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  project.provide("workerBindings", {});
  return async () => {};
}
