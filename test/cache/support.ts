import { upstreamRequests } from "../support/gateway";

/** A JSON POST with an API key (and any extra headers). */
export function call(key: string, body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  };
}

/** How many requests carrying `marker` reached the mock provider (its log is shared by every test). */
export async function upstreamCalls(marker: string): Promise<number> {
  return (await upstreamRequests()).filter((r) => JSON.stringify(r.body).includes(marker)).length;
}
