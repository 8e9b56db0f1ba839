import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";

const call = (path: string, init?: RequestInit) =>
  exports.default.fetch(new Request(`http://sluice.test${path}`, init));

describe("worker basics", () => {
  it("answers /healthz", async () => {
    const res = await call("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("answers with its own x-request-id, never the caller's", async () => {
    const res = await call("/healthz", { headers: { "x-request-id": "req-123" } });
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("answers /healthz with a query string and to HEAD, and nothing that only looks like it", async () => {
    const withQuery = await call("/healthz?probe=1");
    expect(withQuery.status).toBe(200);
    expect(await withQuery.json()).toEqual({ status: "ok" });
    const head = await call("/healthz", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    for (const path of ["/healthzz", "/healthz/", "/x/healthz", "/HEALTHZ"]) {
      const res = await call(path);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unknown_url");
    }
    // Under /v1 a key comes first.
    expect((await call("/v1/healthz")).status).toBe(401);
    const hostNamedLikeIt = await exports.default.fetch(new Request("http://healthz/v2/x"));
    expect(hostNamedLikeIt.status).toBe(404);
  });

  it("answers unknown routes with an OpenAI-shaped 404", async () => {
    const res = await call("/v2/whatever");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: {
        message: "Unknown request URL: GET /v2/whatever.",
        type: "invalid_request_error",
        param: null,
        code: "unknown_url",
      },
    });
  });

  it("answers a wrong method on a known route with 405", async () => {
    const res = await call("/healthz", { method: "POST" });
    expect(res.status).toBe(405);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("method_not_allowed");
  });

  it("fails loudly with the path of a bad config field", async () => {
    const badEnv = {
      ...env,
      SLUICE_CONFIG: JSON.stringify({ routes: { m: { targets: [{ provider: "nope", model: "x" }] } } }),
    };
    const res = await worker.fetch(new Request("http://sluice.test/healthz"), badEnv, {
      waitUntil() {},
      passThroughOnException() {},
      props: {},
    } as unknown as ExecutionContext);
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("config_error");
    expect(body.error.message).toContain("routes.m.targets.0.provider");
  });
});
