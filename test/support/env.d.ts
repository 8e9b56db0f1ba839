// Bindings the test global setup provides to the worker (see test/support/global-setup.ts).
declare namespace Cloudflare {
  interface Env {
    SLUICE_CONFIG: string;
    SLUICE_JWKS: string;
    SLUICE_SIGNING_KEY: string;
    SLUICE_DEMO_KEY: string;
    ADMIN_TOKEN: string;
    UPSTASH_REDIS_REST_URL: string;
    UPSTASH_REDIS_REST_TOKEN: string;
    DATABASE_URL: string;
    NEON_FETCH_ENDPOINT: string;
    MOCK_API_KEY: string;
    MOCK_PROVIDER_URL: string;
    SLUICE_TEST_CONTROL_URL: string;
  }
}
