import { Hono } from "hono";
import * as z from "zod";
import { purgeEntries } from "../cache";
import type { AppEnv } from "../context";
import { badRequest } from "../errors";
import { parseOrThrow } from "./key-params";

const PurgeQuery = z.object({
  tenant: z.string().min(1).max(256).optional(),
  route: z.string().min(1).max(256).optional(),
});

/**
 * The response cache under /admin/cache (behind the admin token): `DELETE /?tenant=&route=`
 * purges a tenant's entries, a route's, or one route's of one tenant (at least one is required).
 * @example admin.route("/cache", cacheRoutes())
 */
export function cacheRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  routes.delete("/", async (c) => {
    const scope = parseOrThrow(PurgeQuery, c.req.query());
    if (scope.tenant === undefined && scope.route === undefined) {
      throw badRequest("Name a tenant, a route, or both to purge.", "tenant", "missing_scope");
    }
    return c.json(await purgeEntries(c.get("services").redis, scope));
  });
  return routes;
}
