import { afterEach, describe, expect, it, vi } from "vitest";
import { KEY_PREFIX } from "../../src/auth";
import {
  ADMIN,
  adminJson,
  apiKeyRows,
  bearer,
  bindings,
  callWorker,
  chat,
  type KeyJson,
  testGateway,
  uniqueTenant,
  usageRows,
} from "../admin/support";

/**
 * Secrets never show up where they do not belong: a whole key life (mint, list, use, misuse,
 * rotate, revoke) runs with the console captured, then the logs, every response's headers, every
 * body but the two that hand a token out, the api_keys rows and the usage rows are searched for
 * any token, any token's signature, the admin token and the private signing key.
 */

afterEach(() => {
  vi.restoreAllMocks();
});

function captureConsole(): string[] {
  const lines: string[] = [];
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(args.map((a) => (typeof a === "string" ? a : (JSON.stringify(a) ?? String(a)))).join(" "));
    });
  }
  return lines;
}

/** The parts of a token that must not leak: the whole JWS and its signature on its own. */
function secretPartsOf(token: string): string[] {
  const jws = token.slice(KEY_PREFIX.length);
  return [jws, jws.slice(jws.lastIndexOf(".") + 1)];
}

describe("no token anywhere", () => {
  it("logs, headers, error bodies, api_keys and usage rows never contain a token or secret", async () => {
    const logs = captureConsole();
    const gw = testGateway();
    // Control: the capture sees what the gateway logs.
    gw.services.log("info", "capture control");
    expect(logs.join("\n")).toContain("capture control");
    const tenant = uniqueTenant("secret");
    const seen: { what: string; status: number; headers: string; body: string }[] = [];
    const handedOut: string[] = [];
    const call = async (what: string, path: string, init?: RequestInit, fetch = gw.fetch) => {
      const res = await fetch(path, init);
      const body = await res.text();
      const headers = JSON.stringify([...res.headers]);
      if (res.status === 201) {
        handedOut.push((JSON.parse(body) as { key: string }).key);
        // The one place a token may appear: still never another secret.
        seen.push({
          what,
          status: res.status,
          headers,
          body: body.replace(/"key":"[^"]+"/, '"key":"<shown once>"'),
        });
      } else {
        seen.push({ what, status: res.status, headers, body });
      }
      return { status: res.status, json: () => JSON.parse(body) as KeyJson };
    };

    const created = await call(
      "create",
      "/admin/keys",
      adminJson("POST", { tenant, models: ["gpt-4o*"], expires_in: "1d" }),
    );
    expect(created.status).toBe(201);
    const first = created.json();
    const firstKey = handedOut[0] as string;
    await call("list", `/admin/keys?tenant=${tenant}`, { headers: ADMIN });
    await call("get", `/admin/keys/${first.id}`, { headers: ADMIN });
    await call("models", "/v1/models", { headers: bearer(firstKey) });
    await call("chat", "/v1/chat/completions", chat(firstKey));
    await call("chat, stream", "/v1/chat/completions", {
      ...chat(firstKey),
      body: JSON.stringify({
        model: "gpt-4o-mini",
        stream: true,
        messages: [{ role: "user", content: "hi" }],
      }),
    });
    await call("forbidden model", "/v1/chat/completions", chat(firstKey, "gpt-4.1"));
    await call("unknown model", "/v1/chat/completions", chat(firstKey, "no-such-model"));
    await call("bad body", "/v1/chat/completions", { method: "POST", headers: bearer(firstKey), body: "{" });
    await call("tampered", "/v1/models", { headers: bearer(`${firstKey.slice(0, -4)}AAAA`) });
    await call("oversized", "/v1/models", { headers: bearer(firstKey + "A".repeat(9000)) });
    await call("key as admin", "/admin/keys", { headers: bearer(firstKey) });
    await call("key in an admin path", `/admin/keys/${firstKey}`, { headers: ADMIN });
    await call("real entry", "/v1/models", { headers: bearer(firstKey) }, callWorker);

    const rotated = await call(
      "rotate",
      `/admin/keys/${first.id}/rotate`,
      adminJson("POST", { grace_seconds: 30 }),
    );
    expect(rotated.status).toBe(201);
    const secondKey = handedOut[1] as string;
    await call("new key", "/v1/models", { headers: bearer(secondKey) });
    await call("revoke", `/admin/keys/${rotated.json().id}`, { method: "DELETE", headers: ADMIN });
    await call("revoked key", "/v1/models", { headers: bearer(secondKey) });
    await call("revoked key, chat", "/v1/chat/completions", chat(secondKey));
    gw.clock.ms += 31_000;
    await call("after the grace", "/v1/models", { headers: bearer(firstKey) });

    expect(handedOut).toHaveLength(2);
    const secrets = [
      ...handedOut.flatMap(secretPartsOf),
      bindings.ADMIN_TOKEN as string,
      JSON.parse(bindings.SLUICE_SIGNING_KEY as string).d as string,
      bindings.SLUICE_DEMO_KEY as string,
    ];
    const places: [string, string][] = [
      ["logs", logs.join("\n")],
      ...seen.flatMap((s): [string, string][] => [
        [`${s.what} (${s.status}) headers`, s.headers],
        [`${s.what} (${s.status}) body`, s.body],
      ]),
      ["api_keys rows", JSON.stringify(await apiKeyRows(tenant))],
      ["usage rows", JSON.stringify(await usageRows(tenant))],
    ];
    expect(await apiKeyRows(tenant)).toHaveLength(2);
    for (const [where, text] of places) {
      for (const secret of secrets) expect(text.includes(secret), `a secret in ${where}`).toBe(false);
    }
  });
});
