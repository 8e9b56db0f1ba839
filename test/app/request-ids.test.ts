import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const call = (path: string, init?: RequestInit) =>
  exports.default.fetch(new Request(`http://sluice.test${path}`, init));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("the gateway's request id on answers outside the APIs", () => {
  it("/healthz, which skips the per-request middleware, still gets a fresh id of the gateway's own", async () => {
    const [a, b] = await Promise.all([
      call("/healthz"),
      call("/healthz", { headers: { "x-request-id": "mine" } }),
    ]);
    expect(a.headers.get("x-request-id")).toMatch(UUID);
    expect(b.headers.get("x-request-id")).toMatch(UUID);
    expect(a.headers.get("x-request-id")).not.toBe(b.headers.get("x-request-id"));
  });

  it("a 404 for an unknown path and a 405 for a wrong method carry one too", async () => {
    for (const [path, init, status] of [
      ["/v2/whatever", undefined, 404],
      ["/constructor", undefined, 404],
      ["/healthz", { method: "POST" }, 405],
    ] as const) {
      const response = await call(path, init);
      expect(response.status).toBe(status);
      expect(response.headers.get("x-request-id")).toMatch(UUID);
    }
  });

  it("an API path still gets the per-request state (a 401 with the gateway's id)", async () => {
    const response = await call("/v1/chat/completions", { method: "POST", body: "{}" });
    expect(response.status).toBe(401);
    expect(response.headers.get("x-request-id")).toMatch(UUID);
  });
});
