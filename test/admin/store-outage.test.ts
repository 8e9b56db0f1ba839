import { afterEach, describe, expect, it } from "vitest";
import { control } from "../metering/support";
import { ADMIN, callWorker, type ErrorJson } from "./support";

/**
 * Key and tenant administration while Postgres is out: a 503 the operator's tooling retries (as the
 * usage API answers), never a 500 that reads as a gateway bug. Runs in the outage project.
 */

afterEach(async () => {
  await control("postgres/up");
});

const json = { ...ADMIN, "content-type": "application/json" };

describe("admin keys and tenants with the store down", () => {
  it("control: both answer while Postgres is up", async () => {
    expect((await callWorker("/admin/keys", { headers: ADMIN })).status).toBe(200);
    expect((await callWorker("/admin/tenants", { headers: ADMIN })).status).toBe(200);
  });

  it("answers 503 key_store_unavailable / tenant_store_unavailable with Retry-After", async () => {
    await control("postgres/down");
    const calls: [string, RequestInit, string][] = [
      ["/admin/keys", { headers: ADMIN }, "key_store_unavailable"],
      [
        "/admin/keys",
        { method: "POST", headers: json, body: JSON.stringify({ tenant: "acme" }) },
        "key_store_unavailable",
      ],
      ["/admin/tenants", { headers: ADMIN }, "tenant_store_unavailable"],
      ["/admin/tenants/acme/balance", { headers: ADMIN }, "tenant_store_unavailable"],
    ];
    for (const [path, init, code] of calls) {
      const res = await callWorker(path, init);
      expect(res.status, `${init.method ?? "GET"} ${path}`).toBe(503);
      expect(res.headers.get("retry-after")).toBe("5");
      expect(res.headers.get("x-request-id")).toBeTruthy();
      expect(((await res.json()) as ErrorJson).error).toMatchObject({ type: "server_error", code });
    }
  });

  it("still refuses bad input with its own error while the store is down", async () => {
    await control("postgres/down");
    const res = await callWorker("/admin/keys?limit=abc", { headers: ADMIN });
    expect(res.status).toBe(400);
  });
});
