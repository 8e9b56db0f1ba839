/**
 * The floor the gateway is measured against: a bare Hono worker that forwards /v1/* to the
 * upstream and streams the answer back, with no auth, limits, routing or metering.
 *
 * Given LIMITS_URL and LIMITS_TOKEN (an Upstash REST endpoint), it first makes one pipeline
 * request there and awaits its reply, as any gateway that keeps its limits in Redis must before
 * the upstream call: the floor of such a gateway, with no logic at all around that round trip.
 */
import { Hono } from "hono";

interface PassthroughEnv {
  /** Base URL of the upstream, without a trailing slash (e.g. http://127.0.0.1:1234). */
  UPSTREAM_URL: string;
  /** The Upstash REST endpoint of the one limits round trip, if any. */
  LIMITS_URL?: string;
  LIMITS_TOKEN?: string;
}

const app = new Hono<{ Bindings: PassthroughEnv }>();

app.get("/healthz", (c) => c.json({ status: "ok" }));

// One counter in one command: the least a limits round trip can be.
const LIMITS_PIPELINE = JSON.stringify([["incr", "bench:passthrough-floor"]]);

// Headers and body go through untouched (the caller's Authorization included): the cheapest
// forward workerd can do, so everything the gateway adds shows up as the difference.
app.all("/v1/*", async (c) => {
  const url = new URL(c.req.url);
  if (c.env.LIMITS_URL) {
    const reply = await fetch(`${c.env.LIMITS_URL}/pipeline`, {
      method: "POST",
      headers: { authorization: `Bearer ${c.env.LIMITS_TOKEN}` },
      body: LIMITS_PIPELINE,
    });
    await reply.json();
  }
  return fetch(`${c.env.UPSTREAM_URL}${url.pathname}${url.search}`, {
    method: c.req.method,
    headers: c.req.raw.headers,
    body: c.req.raw.body,
  });
});

export default app;
