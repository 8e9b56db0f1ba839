import { afterEach, describe, expect, it, vi } from "vitest";
import { DEMO_KEY, gateway, post } from "../support/gateway";

const auth = { headers: { authorization: `Bearer ${DEMO_KEY}` } };

describe("middleware registered once per path", () => {
  afterEach(() => vi.restoreAllMocks());

  it.each(["/v1/models", "/v1/models/gpt-4o-mini"])("checks revocation once on %s", async (path) => {
    const gw = gateway({
      routes: { "gpt-4o-mini": { targets: [{ provider: "mock", model: "gpt-4o-mini" }] } },
    });
    const isRevoked = vi.spyOn(gw.services.revocations, "refusal");
    const res = await gw.fetch(path, auth);
    expect(res.status).toBe(200);
    expect(isRevoked).toHaveBeenCalledTimes(1);
  });

  // One "/v1/messages/*" registration covers both paths (Hono's "/x/*" also matches "/x").
  it.each(["/v1/messages", "/v1/messages/count_tokens"])(
    "answers errors in Anthropic's shape on %s",
    async (path) => {
      const res = await gateway().fetch(path, post({ model: 42 }));
      expect(res.status).toBe(400);
      expect(((await res.json()) as { type: string }).type).toBe("error");
    },
  );
});
