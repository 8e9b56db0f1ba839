import OpenAI from "openai";
import { beforeEach, describe, expect, it } from "vitest";
import { UnsupportedFeatureError } from "../../src/providers/common/errors";
import { checkImageUrl, createRemoteImageFetcher, isPublicHost } from "../../src/proxy/remote-image";
import { clearUpstream, gateway, upstreamRequests } from "../support/gateway";
import { isMockUrl, openaiFor, PIXEL_PNG_BASE64, postJson } from "./support";

const PIXEL = Uint8Array.from(atob(PIXEL_PNG_BASE64), (ch) => ch.charCodeAt(0));
const CAT = "https://images.example.com/cat.png";
const FIVE_MB = 5 * 1024 * 1024;

/** Image hosts the stubbed outbound fetch knows, by URL; the mock provider is reached for real. */
const hosts = new Map<string, () => Response>();
const imageCalls: { url: string; redirect: RequestInit["redirect"] }[] = [];
const png = (bytes: Uint8Array = PIXEL, headers: Record<string, string> = {}) =>
  new Response(bytes, { headers: { "content-type": "image/png", ...headers } });
const redirect = (to: string) => new Response(null, { status: 302, headers: { location: to } });

const stubFetch: typeof fetch = async (input, init) => {
  const url = input instanceof Request ? input.url : String(input);
  if (isMockUrl(url)) return fetch(input, init);
  imageCalls.push({ url, redirect: init?.redirect });
  return hosts.get(url)?.() ?? new Response("no such image", { status: 404 });
};

const gw = gateway(
  {
    routes: {
      gemini: { targets: [{ provider: "mock-gemini", model: "gemini-2.5-flash" }] },
      claude: { targets: [{ provider: "mock-anthropic", model: "claude-sonnet-4-5" }] },
      gpt: { targets: [{ provider: "mock", model: "gpt-4o-mini" }] },
      "gemini-then-gpt": {
        targets: [
          { provider: "mock-gemini", model: "gemini-2.5-flash" },
          { provider: "mock", model: "gpt-4o-mini" },
        ],
      },
    },
  },
  { fetcher: stubFetch },
);

function withImage(model: string, ...urls: string[]) {
  return postJson({
    model,
    messages: [
      {
        role: "user",
        content: [
          { type: "text", text: "What is this" },
          ...urls.map((url) => ({ type: "image_url", image_url: { url } })),
        ],
      },
    ],
  });
}

async function refusal(res: Response) {
  expect(res.status).toBe(400);
  const body = (await res.json()) as { error: { type: string; code: string; message: string } };
  expect(body.error).toMatchObject({ type: "invalid_request_error", code: "invalid_image_url" });
  return body.error.message;
}

beforeEach(async () => {
  hosts.clear();
  imageCalls.length = 0;
  hosts.set(CAT, () => png());
  await clearUpstream();
});

describe("image URLs for a Gemini target", () => {
  it("fetches a public https image once, without auto-redirects, and sends its bytes inline", async () => {
    const res = await gw.fetch("/v1/chat/completions", withImage("gemini", CAT, CAT));
    expect(res.status).toBe(200);
    expect(imageCalls).toEqual([{ url: CAT, redirect: "manual" }]);
    const [sent] = await upstreamRequests();
    const inline = JSON.stringify({ inlineData: { mimeType: "image/png", data: PIXEL_PNG_BASE64 } });
    expect(JSON.stringify(sent?.body).split(inline)).toHaveLength(3);
  });

  it.each([
    ["http://images.example.com/cat.png", /https/],
    ["https://127.0.0.1/cat.png", /public/],
    ["https://[::1]/cat.png", /public/],
    ["https://10.0.0.1/cat.png", /public/],
    ["https://169.254.169.254/latest/meta-data/", /public/],
    ["https://0x7f000001/cat.png", /public/],
    ["https://[::ffff:127.0.0.1]/cat.png", /public/],
    ["https://localhost/cat.png", /public/],
    ["https://metadata.google.internal/computeMetadata/v1/", /public/],
    ["https://images.example.com:8443/cat.png", /port/],
    ["https://user:secret@images.example.com/cat.png", /credentials/],
  ])("refuses %s without fetching it or calling the upstream", async (url, reason) => {
    const res = await gw.fetch("/v1/chat/completions", withImage("gemini", url));
    expect(await refusal(res)).toMatch(reason);
    expect(imageCalls).toEqual([]);
    expect(await upstreamRequests()).toEqual([]);
  });

  it("refuses an image whose Content-Length is over 5 MB", async () => {
    hosts.set(CAT, () => png(PIXEL, { "content-length": String(FIVE_MB + 1) }));
    expect(await refusal(await gw.fetch("/v1/chat/completions", withImage("gemini", CAT)))).toMatch(/5 MB/);
    expect(await upstreamRequests()).toEqual([]);
  });

  it("refuses an image that grows over 5 MB while read (no Content-Length)", async () => {
    hosts.set(CAT, () => {
      const chunk = new Uint8Array(1024 * 1024);
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ > 6) controller.close();
          else controller.enqueue(chunk);
        },
      });
      return new Response(body, { headers: { "content-type": "image/png" } });
    });
    expect(await refusal(await gw.fetch("/v1/chat/completions", withImage("gemini", CAT)))).toMatch(/5 MB/);
  });

  it("answers 400, not 500, when the image host cuts the body mid-read", async () => {
    hosts.set(CAT, () => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(PIXEL);
          controller.error(new Error("connection reset"));
        },
      });
      return new Response(body, { headers: { "content-type": "image/png" } });
    });
    expect(await refusal(await gw.fetch("/v1/chat/completions", withImage("gemini", CAT)))).toMatch(/read/);
  });

  it("refuses a redirect to a private address, never fetching it", async () => {
    hosts.set(CAT, () => redirect("https://169.254.169.254/latest/meta-data/"));
    expect(await refusal(await gw.fetch("/v1/chat/completions", withImage("gemini", CAT)))).toMatch(/public/);
    expect(imageCalls.map((c) => c.url)).toEqual([CAT]);
  });

  it("refuses a redirect to plain http", async () => {
    hosts.set(CAT, () => redirect("http://images.example.com/cat.png"));
    expect(await refusal(await gw.fetch("/v1/chat/completions", withImage("gemini", CAT)))).toMatch(/https/);
  });

  it("follows up to two redirects to public https hosts, then refuses", async () => {
    hosts.set(CAT, () => redirect("/one.png"));
    hosts.set("https://images.example.com/one.png", () => redirect("https://cdn.example.net/two.png"));
    hosts.set("https://cdn.example.net/two.png", () => png());
    expect((await gw.fetch("/v1/chat/completions", withImage("gemini", CAT))).status).toBe(200);

    imageCalls.length = 0;
    hosts.set("https://cdn.example.net/two.png", () => redirect("https://cdn.example.net/three.png"));
    hosts.set("https://cdn.example.net/three.png", () => png());
    expect(await refusal(await gw.fetch("/v1/chat/completions", withImage("gemini", CAT)))).toMatch(
      /redirects/,
    );
    expect(imageCalls.map((c) => c.url)).not.toContain("https://cdn.example.net/three.png");
  });

  it("refuses what is not an image, and an image host's error", async () => {
    hosts.set(CAT, () => new Response("<html></html>", { headers: { "content-type": "text/html" } }));
    expect(await refusal(await gw.fetch("/v1/chat/completions", withImage("gemini", CAT)))).toMatch(
      /not .*image/,
    );
    const missing = "https://images.example.com/missing.png";
    expect(await refusal(await gw.fetch("/v1/chat/completions", withImage("gemini", missing)))).toMatch(
      /404/,
    );
  });

  it("raises BadRequestError in the openai SDK", async () => {
    const client = openaiFor(gw);
    const error = await client.chat.completions
      .create({
        model: "gemini",
        messages: [
          { role: "user", content: [{ type: "image_url", image_url: { url: "https://10.0.0.1/x.png" } }] },
        ],
      })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("invalid_image_url");
  });

  it("falls back to a target that takes URLs when Gemini cannot have the image", async () => {
    const url = "http://images.example.com/cat.png";
    const res = await gw.fetch("/v1/chat/completions", withImage("gemini-then-gpt", url));
    expect(res.status).toBe(200);
    expect(res.headers.get("x-sluice-provider")).toBe("mock");
    expect(imageCalls).toEqual([]);
    const [sent] = await upstreamRequests();
    expect(JSON.stringify(sent?.body)).toContain(JSON.stringify({ url }));
  });
});

describe("image URLs for OpenAI and Anthropic targets", () => {
  it.each(["gpt", "claude"])("%s: the URL passes through, the gateway never fetches it", async (model) => {
    const res = await gw.fetch("/v1/chat/completions", withImage(model, CAT));
    expect(res.status).toBe(200);
    expect(imageCalls).toEqual([]);
    const [sent] = await upstreamRequests();
    const expected = model === "claude" ? { type: "url", url: CAT } : { url: CAT };
    expect(JSON.stringify(sent?.body)).toContain(JSON.stringify(expected));
  });
});

describe("remote-image checks", () => {
  it.each([
    "example.com",
    "images.example.com",
    "8.8.8.8",
    "1.1.1.1",
    "[2606:4700:4700::1111]",
    "[2a00:1450:4007:80e::200e]",
  ])("%s is public", (host) => {
    expect(isPublicHost(host)).toBe(true);
  });

  it.each([
    "localhost",
    "localhost.",
    "printer.local",
    "db.internal",
    "app.localhost",
    "metadata",
    "0.0.0.0",
    "10.1.2.3",
    "100.64.0.1",
    "100.127.255.255",
    "127.0.0.1",
    "169.254.169.254",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "198.18.0.1",
    "224.0.0.1",
    "255.255.255.255",
    "[::]",
    "[::1]",
    "[fe80::1]",
    "[fc00::1]",
    "[fd12:3456::1]",
    "[ff02::1]",
    "[::ffff:7f00:1]",
    "[64:ff9b::a00:1]",
    "[2001:db8::1]",
    "[2002:a00:1::1]",
    "[2001::1]",
  ])("%s is not public", (host) => {
    expect(isPublicHost(host)).toBe(false);
  });

  it("normalises IPv4 written in other notations before checking", () => {
    for (const url of ["https://2130706433/", "https://0177.0.0.1/", "https://0x0a.0.0.1/"]) {
      expect(() => checkImageUrl(url)).toThrow(UnsupportedFeatureError);
    }
    expect(checkImageUrl("https://172.32.0.1/x.png").hostname).toBe("172.32.0.1");
  });

  it("gives up on a host that does not answer in time, aborting its request", async () => {
    let aborted = false;
    const hanging: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => {
          aborted = true;
          reject(new Error("aborted"));
        });
      });
    const fetchImage = createRemoteImageFetcher(hanging, {
      maxBytes: FIVE_MB,
      timeoutMs: 20,
      maxRedirects: 2,
    });
    const error = await fetchImage(CAT).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect((error as UnsupportedFeatureError).code).toBe("invalid_image_url");
    expect((error as Error).message).toMatch(/in time/);
    expect(aborted).toBe(true);
  });
});
