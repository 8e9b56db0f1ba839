/**
 * The floor the gateway is measured against: a bare Hono worker that forwards /v1/* to the
 * upstream and streams the answer back, with no auth, limits, routing or metering.
 */
import { Hono } from "hono";

interface PassthroughEnv {
  /** Base URL of the upstream, without a trailing slash (e.g. http://127.0.0.1:1234). */
  UPSTREAM_URL: string;
}

const app = new Hono<{ Bindings: PassthroughEnv }>();

app.get("/healthz", (c) => c.json({ status: "ok" }));

// Headers and body go through untouched (the caller's Authorization included): the cheapest
// forward workerd can do, so everything the gateway adds shows up as the difference.
app.all("/v1/*", (c) => {
  const url = new URL(c.req.url);
  return fetch(`${c.env.UPSTREAM_URL}${url.pathname}${url.search}`, {
    method: c.req.method,
    headers: c.req.raw.headers,
    body: c.req.raw.body,
  });
});

export default app;
