import { describe, expect, it } from "vitest";
import {
  ADMIN,
  adminJson,
  apiKeyRows,
  callWorker,
  createKey,
  type ErrorJson,
  uniqueTenant,
} from "../admin/support";

/**
 * Hostile admin parameters (issue 10, Found 5 and 9): every value an operator's client could send
 * by mistake or an attacker holding a leaked dashboard URL could craft gets a 2xx or a 4xx naming
 * the parameter, never a 500.
 */

const get = (path: string) => callWorker(path, { headers: ADMIN });

async function errorOf(res: Response): Promise<ErrorJson["error"]> {
  const body = (await res.json()) as ErrorJson;
  expect(Object.keys(body)).toEqual(["error"]);
  return body.error;
}

async function expect400(res: Response, param: string | null, where: string): Promise<void> {
  expect(res.status, where).toBe(400);
  expect(await errorOf(res), where).toMatchObject({ type: "invalid_request_error", param });
}

/** base64url of the JSON the listing's cursors carry: `[created_at, request_id]`. */
function cursorOf(value: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

const WINDOW = "from=2026-01-01&to=2026-01-02";
const USAGE_ROUTES = ["/admin/usage", "/admin/usage/export", "/admin/usage/requests"];
const FILTERS = ["tenant", "key_id", "model", "provider"];

describe("usage filters", () => {
  it("NUL, other control characters and oversized values are a 400 naming the filter", async () => {
    const bad = ["%00", "a%00b", "x%01y", "%0d%0a", "%1b%5b31m", "%7f", "x".repeat(10_240)];
    for (const route of USAGE_ROUTES) {
      for (const filter of FILTERS) {
        for (const value of bad) {
          const path = `${route}?${WINDOW}&${filter}=${value}`;
          const res = await get(path);
          await expect400(res, filter, path.slice(0, 120));
        }
      }
    }
  });

  it("tenant and key_id take only what an id can be (printable ASCII, no spaces)", async () => {
    for (const filter of ["tenant", "key_id"]) {
      for (const value of ["a%20b", "%C3%BCmlaut", "%F0%9F%8E%89"]) {
        await expect400(await get(`/admin/usage?${WINDOW}&${filter}=${value}`), filter, `${filter}=${value}`);
      }
    }
  });

  it("printable unicode and prototype names are plain values: 200 with nothing matched", async () => {
    const values = ["__proto__", "constructor", "toString", "%C3%BCmlaut-%F0%9F%8E%89", "%E2%80%AEgnp"];
    for (const filter of FILTERS) {
      for (const value of values) {
        if ((filter === "tenant" || filter === "key_id") && value.includes("%")) continue;
        const res = await get(`/admin/usage?${WINDOW}&${filter}=${value}`);
        expect(res.status, `${filter}=${value}`).toBe(200);
        const body = (await res.json()) as { totals: { requests: number } };
        expect(body.totals.requests).toBe(0);
      }
    }
  });
});

describe("usage time range", () => {
  it("dates Postgres or the app cannot hold are a 400 naming from or to", async () => {
    const cases: [string, string][] = [
      ["from=0000-01-01", "from"],
      ["from=0001-01-01&to=0002-01-01", "from"],
      ["from=1969-12-31&to=1970-01-02", "from"],
      ["from=2026-01-01&to=10000-01-01", "to"],
      ["from=2026-01-01&to=9999-12-31T23:00:00-14:00", "to"],
      ["from=2026-02-30", "from"],
      ["from=2026-13-01", "from"],
      ["from=2026-01-01T25:00:00Z", "from"],
      ["from=%2B275760-09-13", "from"],
      ["from=-000001-01-01", "from"],
      ["from=2026-01-01%00", "from"],
      [`from=${"9".repeat(10_240)}`, "from"],
      ["to=1", "to"],
      ["from=2026-01-02&to=2026-01-01", "from"],
      ["to=0000-01-01", "to"],
    ];
    for (const route of USAGE_ROUTES) {
      for (const [query, param] of cases) {
        await expect400(await get(`${route}?${query}`), param, `${route}?${query.slice(0, 60)}`);
      }
    }
  });

  it("the edges of the range are accepted", async () => {
    for (const query of ["from=1970-01-01&to=1970-01-02", "from=9999-12-30&to=9999-12-31T23:59:59Z"]) {
      const res = await get(`/admin/usage?${query}`);
      expect(res.status, query).toBe(200);
    }
  });

  it("the bad-parameter answers carry a code", async () => {
    const error = await errorOf(await get("/admin/usage?from=0000-01-01"));
    expect(error).toMatchObject({ param: "from", code: "invalid_value" });
  });
});

describe("usage listing cursor", () => {
  it("a cursor whose fields do not hold up is a 400 naming cursor", async () => {
    const cursors = [
      cursorOf(["1", "x"]),
      cursorOf(["0000-01-01T00:00:00.000000Z", "x"]),
      cursorOf(["+275760-09-13T00:00:00.000000Z", "x"]),
      cursorOf(["2026-01-01T00:00:00.000000Z", "a\u0000b"]),
      cursorOf(["2026-01-01T00:00:00.000000Z", "x".repeat(300)]),
      cursorOf(["2026-01-01T00:00:00.000000Z", ""]),
      cursorOf(["2026-01-01T00:00:00.000000Z"]),
      cursorOf(["2026-01-01T00:00:00.000000Z", 1]),
      cursorOf({ createdAt: "2026-01-01T00:00:00.000000Z", requestId: "x" }),
      cursorOf(["2026-01-01 00:00:00; drop table usage_events", "x"]),
      cursorOf(null),
      "%00",
      "!!!",
      "x".repeat(10_240),
    ];
    for (const cursor of cursors) {
      await expect400(await get(`/admin/usage/requests?cursor=${cursor}`), "cursor", cursor.slice(0, 60));
    }
  });

  it("a well-formed cursor still pages", async () => {
    const res = await get(`/admin/usage/requests?cursor=${cursorOf(["2026-01-01T00:00:00.000000Z", "x"])}`);
    expect(res.status).toBe(200);
  });
});

describe("key ids in paths", () => {
  it("an id that is not an id the gateway mints is 404, without touching the store", async () => {
    const ids = ["%00", "a%00b", "x".repeat(10_240), "%C3%BCmlaut", "a%20b", "%0d%0a"];
    for (const id of ids) {
      for (const [method, suffix] of [
        ["GET", ""],
        ["DELETE", ""],
        ["POST", "/rotate"],
      ] as const) {
        const res = await callWorker(`/admin/keys/${id}${suffix}`, { method, headers: ADMIN });
        expect(res.status, `${method} ${id.slice(0, 20)}${suffix}`).toBe(404);
        expect(await errorOf(res)).toMatchObject({ code: "key_not_found" });
      }
    }
  });

  it("prototype names and SQL are ids nobody has: 404", async () => {
    for (const id of ["__proto__", "constructor", "toString", "'OR'1'='1", "1;DROP%20TABLE%20api_keys"]) {
      const res = await get(`/admin/keys/${id}`);
      expect(res.status, id).toBe(404);
    }
  });
});

describe("key listing", () => {
  it("refuses a bad tenant or limit with a 400 naming it", async () => {
    const cases: [string, string][] = [
      ["tenant=%00", "tenant"],
      [`tenant=${"x".repeat(10_240)}`, "tenant"],
      ["limit=-1", "limit"],
      ["limit=0", "limit"],
      ["limit=1e309", "limit"],
      ["limit=99999999999999999999", "limit"],
      ["limit=1.5", "limit"],
      ["limit=NaN", "limit"],
      ["limit=%00", "limit"],
      ["color=red", "color"],
    ];
    for (const [query, param] of cases) {
      await expect400(await get(`/admin/keys?${query}`), param, query.slice(0, 40));
    }
  });
});

describe("usage limits", () => {
  it("negative, huge and non-numeric limits are a 400 naming limit", async () => {
    for (const route of ["/admin/usage", "/admin/usage/requests"]) {
      for (const value of [
        "-1",
        "0",
        "1e309",
        "99999999999999999999",
        "1.5",
        "NaN",
        "Infinity",
        "%00",
        "0x10",
      ]) {
        await expect400(await get(`${route}?limit=${value}`), "limit", `${route} limit=${value}`);
      }
    }
  });
});

/** A value of every kind a hostile client might try, each percent-encoded or raw. */
const HOSTILE = [
  "%00",
  "%0d%0a",
  "%ff",
  "%ED%A0%80",
  encodeURIComponent("x".repeat(10_240)),
  encodeURIComponent("ümlaut 🎉\u202e"),
  "__proto__",
  "toString",
  encodeURIComponent("' OR 1=1 --"),
  "-1",
  "1e309",
  "99999999999999999999999",
  "",
];

// Hundreds of requests each: allow for a busy machine.
describe("fuzz: every admin query parameter with every hostile value", { timeout: 120_000 }, () => {
  const params: Record<string, string[]> = {
    "/admin/usage": ["from", "to", "group_by", "limit", ...FILTERS],
    "/admin/usage/export": ["from", "to", "format", ...FILTERS],
    "/admin/usage/requests": ["from", "to", "limit", "cursor", ...FILTERS],
    "/admin/keys": ["tenant", "limit"],
  };
  for (const [route, names] of Object.entries(params)) {
    it(`${route} answers 2xx or 4xx`, async () => {
      for (const name of names) {
        for (const value of HOSTILE) {
          const res = await get(`${route}?${name}=${value}`);
          expect(res.status, `${route}?${name}=${value.slice(0, 40)}`).toBeLessThan(500);
          await res.body?.cancel();
        }
      }
      // Repeated and unknown parameters too.
      for (const query of [`${names[0]}=a&${names[0]}=%00`, "__proto__=1", "constructor=1", "%00=1"]) {
        const res = await get(`${route}?${query}`);
        expect(res.status, `${route}?${query}`).toBeLessThan(500);
        await res.body?.cancel();
      }
    });
  }

  it("/admin/keys/{id} answers 2xx or 4xx for every hostile id", async () => {
    for (const value of HOSTILE) {
      for (const [method, suffix] of [
        ["GET", ""],
        ["DELETE", ""],
        ["POST", "/rotate"],
      ] as const) {
        const res = await callWorker(`/admin/keys/${value}${suffix}`, { method, headers: ADMIN });
        expect(res.status, `${method} ${value.slice(0, 30)}${suffix}`).toBeLessThan(500);
        await res.body?.cancel();
      }
    }
  });
});

describe("POST /admin/keys body", () => {
  const post = (body: unknown) => callWorker("/admin/keys", adminJson("POST", body));

  it("refuses a plan that is not configured, prototype names included, with 400 naming plan", async () => {
    for (const plan of ["toString", "__proto__", "constructor", "hasOwnProperty", "valueOf", "nope"]) {
      const tenant = uniqueTenant("plan");
      const res = await post({ tenant, plan });
      expect(res.status, plan).toBe(400);
      expect(await errorOf(res)).toMatchObject({ param: "plan", code: "unknown_plan" });
      expect(await apiKeyRows(tenant)).toEqual([]);
    }
    // The configured plans still mint.
    expect((await createKey(callWorker, { plan: "pro" })).plan).toBe("pro");
  });

  it("refuses control characters and oversized names, scopes and model globs with 400 naming the field", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ name: "a\u0000b" }, "name"],
      [{ name: "line\r\nbreak" }, "name"],
      [{ name: "\u001b[31mred" }, "name"],
      [{ name: "x".repeat(10_240) }, "name"],
      [{ scopes: ["chat\u0000"] }, "scopes.0"],
      [{ scopes: ["x".repeat(10_240)] }, "scopes.0"],
      [{ scopes: Array.from({ length: 1_000 }, (_, i) => `s${i}`) }, "scopes"],
      [{ models: ["gpt-4o", "gpt\u0000*"] }, "models.1"],
      [{ models: ["x".repeat(10_240)] }, "models.0"],
      [{ models: Array.from({ length: 1_000 }, (_, i) => `m${i}`) }, "models"],
      [{ tenant: "a\u0000b" }, "tenant"],
      [{ tenant: "x".repeat(10_240) }, "tenant"],
      [{ tenant: "a b" }, "tenant"],
    ];
    for (const [body, param] of cases) {
      const tenant = uniqueTenant("ctl");
      const res = await post({ tenant, ...body });
      await expect400(res, param, JSON.stringify(body).slice(0, 60));
      expect(await apiKeyRows(tenant)).toEqual([]);
    }
  });

  it("keeps printable unicode in names", async () => {
    const key = await createKey(callWorker, { name: "Équipe données 🎉" });
    expect(key.name).toBe("Équipe données 🎉");
  });

  it("refuses negative, fractional, huge and non-numeric limits and lifetimes", async () => {
    const cases: [string, string][] = [
      ['"limits":{"rpm":-1}', "limits.rpm"],
      ['"limits":{"rpm":1.5}', "limits.rpm"],
      ['"limits":{"rpm":1e309}', "limits.rpm"],
      ['"limits":{"tpm":99999999999999999999}', "limits.tpm"],
      ['"limits":{"budget_usd_day":-0.01}', "limits.budget_usd_day"],
      ['"limits":{"budget_usd_month":1e309}', "limits.budget_usd_month"],
      ['"limits":{"rpm":"60"}', "limits.rpm"],
      ['"limits":{"__proto__":{"rpm":1}}', "limits.__proto__"],
      ['"expires_in":-1', "expires_in"],
      ['"expires_in":1e309', "expires_in"],
      ['"expires_in":"99999999d"', "expires_in"],
      ['"expires_in":"__proto__"', "expires_in"],
      ['"__proto__":{"plan":"toString"}', "__proto__"],
      ['"constructor":1', "constructor"],
      ['"keyId":"chosen"', "keyId"],
    ];
    for (const [fragment, param] of cases) {
      const tenant = uniqueTenant("lim");
      const res = await callWorker("/admin/keys", {
        method: "POST",
        headers: { ...ADMIN, "content-type": "application/json" },
        body: `{"tenant":"${tenant}",${fragment}}`,
      });
      await expect400(res, param, fragment);
      expect(await apiKeyRows(tenant)).toEqual([]);
    }
  });

  it("answers bodies that are not a key request with a 4xx", async () => {
    for (const body of ["", "null", "[]", '"x"', "1", "{", '{"tenant":', "\u0000", "x".repeat(100_000)]) {
      const res = await callWorker("/admin/keys", {
        method: "POST",
        headers: { ...ADMIN, "content-type": "application/json" },
        body,
      });
      expect(res.status, body.slice(0, 20)).toBeGreaterThanOrEqual(400);
      expect(res.status, body.slice(0, 20)).toBeLessThan(500);
    }
  });

  it("rotation refuses hostile grace and lifetime values with 400 naming them", async () => {
    const key = await createKey(callWorker);
    for (const [body, param] of [
      ['{"grace_seconds":-1}', "grace_seconds"],
      ['{"grace_seconds":1e309}', "grace_seconds"],
      ['{"grace_seconds":99999999999999}', "grace_seconds"],
      ['{"expires_in":"__proto__"}', "expires_in"],
      ['{"__proto__":{}}', "__proto__"],
    ] as const) {
      const res = await callWorker(`/admin/keys/${key.id}/rotate`, {
        method: "POST",
        headers: { ...ADMIN, "content-type": "application/json" },
        body,
      });
      await expect400(res, param, body);
    }
  });
});
