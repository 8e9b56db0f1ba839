import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Two projects: the gateway's tests run inside workerd; the local services, CLI and browser
// checks run in Node. The global setup starts the local stack once and hands its URLs to both.
export default defineConfig({
  test: {
    globalSetup: ["./test/support/global-setup.ts"],
    reporters: ["default", "./test/support/count-reporter.ts"],
    projects: [
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            main: "./src/index.ts",
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: { bindings: inject("workerBindings") },
          })),
        ],
        test: {
          name: "worker",
          include: ["test/**/*.test.ts"],
          exclude: ["test/local/**", "test/node/**"],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "node",
          environment: "node",
          include: ["test/local/**/*.test.ts", "test/node/**/*.test.ts"],
          testTimeout: 30_000,
        },
      },
    ],
  },
});
