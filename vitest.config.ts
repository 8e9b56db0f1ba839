import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

/** Tests that take a shared service down (Redis stopped, Postgres unreachable) run alone, last. */
const OUTAGE_TESTS = [
  "test/billing/prepaid-outage.test.ts",
  "test/limits/failure-policy.test.ts",
  "test/metering/spool.test.ts",
  "test/security/export-failure.test.ts",
  "test/admin/store-outage.test.ts",
];

const workerd = cloudflareTest(({ inject }) => ({
  main: "./src/index.ts",
  wrangler: { configPath: "./wrangler.toml" },
  miniflare: { bindings: inject("workerBindings") },
}));

// The gateway's tests run inside workerd; the local services, CLI and browser checks run in Node.
// The global setup starts the local stack once and hands its URLs to every project.
export default defineConfig({
  test: {
    globalSetup: ["./test/support/global-setup.ts"],
    reporters: ["default", "./test/support/count-reporter.ts"],
    projects: [
      {
        plugins: [workerd],
        test: {
          name: "worker",
          include: ["test/**/*.test.ts"],
          exclude: ["test/local/**", "test/node/**", ...OUTAGE_TESTS],
          testTimeout: 20_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        plugins: [workerd],
        test: {
          name: "worker-outages",
          include: OUTAGE_TESTS,
          testTimeout: 60_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: "node",
          // Node tests start their own services or only read the shared stack: safe beside workerd.
          environment: "node",
          include: ["test/local/**/*.test.ts", "test/node/**/*.test.ts"],
          testTimeout: 30_000,
          sequence: { groupOrder: 0 },
        },
      },
    ],
  },
});
