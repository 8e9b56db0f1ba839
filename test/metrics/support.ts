import { env } from "cloudflare:workers";
import { importSigningKey, mintKey } from "../../src/auth";
import { ADMIN } from "../admin/support";
import { gateway, post, type TestGateway } from "../support/gateway";

export { ADMIN };

/** One sample of a Prometheus text exposition. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the text format (escaped label values included) into samples; comments are skipped. */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    samples.push({ name: match[1] ?? "", labels: parseLabels(match[2] ?? ""), value: Number(match[3]) });
  }
  return samples;
}

function parseLabels(body: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
  re.lastIndex = 1;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    labels[m[1] ?? ""] = (m[2] ?? "").replace(/\\(["\\n])/g, (_, c: string) => (c === "n" ? "\n" : c));
  }
  return labels;
}

/** The sum of the samples named `name` whose labels include `match`. */
export function total(samples: Sample[], name: string, match: Record<string, string>): number {
  return samples
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** A key of its own tenant on the enterprise plan (`limits` on top). */
export async function freshKey(
  limits: Record<string, number> = {},
): Promise<{ token: string; tenant: string }> {
  const signer = await importSigningKey(env.SLUICE_SIGNING_KEY);
  const tenant = `metrics-${crypto.randomUUID().slice(0, 8)}`;
  const { token } = await mintKey(
    signer,
    { tenant, name: "metrics", plan: "enterprise", limits },
    { issuer: "sluice", audience: "sluice" },
  );
  return { token, tenant };
}

/** A gateway with one route of its own (a model name no other test uses), served by the mock. */
export function meteredGateway(extra: Record<string, unknown> = {}): { gw: TestGateway; model: string } {
  const model = `metrics-${crypto.randomUUID().slice(0, 8)}`;
  const gw = gateway({
    routes: { [model]: { targets: [{ provider: "mock", model: "gpt-4o-mini" }], retries: 0 } },
    ...extra,
  });
  return { gw, model };
}

/** A chat call with `key` to `model`. */
export const chatCall = (key: string, model: string, headers: Record<string, string> = {}) =>
  post({ model, messages: [{ role: "user", content: "hello there" }], max_tokens: 20 }, key, headers);

/** The exposition as the admin API serves it. */
export async function scrape(gw: TestGateway, auth: Record<string, string> = ADMIN): Promise<Sample[]> {
  const res = await gw.fetch("/admin/metrics", { headers: auth });
  if (res.status !== 200) throw new Error(`metrics: ${res.status} ${await res.text()}`);
  return parseExposition(await res.text());
}
