/**
 * The liveness probe, answered by the worker's entry before the Hono app: a load balancer's
 * health checks then cost what a bare worker's do (no router, no context per probe).
 */

const HEALTHY = JSON.stringify({ status: "ok" });
const JSON_TYPE = "application/json";
const PATH = "/healthz";

/**
 * Whether this is GET or HEAD /healthz (any query): read from the URL text, not parsed.
 * @example if (isHealthProbe(request)) return healthy()
 */
export function isHealthProbe(request: Request): boolean {
  if (request.method !== "GET" && request.method !== "HEAD") return false;
  const url = request.url;
  const path = url.indexOf("/", url.indexOf("//") + 2);
  if (path === -1 || !url.startsWith(PATH, path)) return false;
  const end = path + PATH.length;
  return end === url.length || url[end] === "?";
}

/** The probe's answer, with an id of the gateway's own like every answer. */
export function healthy(): Response {
  return new Response(HEALTHY, {
    headers: { "content-type": JSON_TYPE, "x-request-id": crypto.randomUUID() },
  });
}
