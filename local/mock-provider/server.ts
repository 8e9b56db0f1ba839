/** The mock provider's HTTP server: records each request, reads its options, applies faults, dispatches. */

import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Exchange } from "./exchange";
import { type Fault, FaultCounters, parseFault } from "./faults";
import { MockOptionError, type MockOptions, readMockOptions, splitModelName } from "./options";
import { type RecordedRequest, Recorder } from "./recorder";
import { formatForPath, matchRoute } from "./routes";

/** A running mock provider. */
export interface MockProvider {
  /** http://127.0.0.1:port — OpenAI base URL is `${url}/v1`, Anthropic `${url}`, Gemini `${url}/v1beta`. */
  url: string;
  port: number;
  /** The requests received so far (control requests under /__mock/ excluded). */
  requests(): RecordedRequest[];
  /** Forgets recorded requests and `times-N` fault counters. */
  clear(): void;
  /** Stops the server and cuts open connections (hung and stalled answers included). */
  close(): Promise<void>;
}

/** Shared state of one mock server. */
interface MockState {
  recorder: Recorder;
  counters: FaultCounters;
  live: Set<Exchange>;
}

/**
 * Starts the mock provider on 127.0.0.1.
 * @example
 * const mock = await startMockProvider();
 * const openai = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: "sk-test" });
 * await mock.close();
 */
export async function startMockProvider(opts: { port?: number } = {}): Promise<MockProvider> {
  const state: MockState = { recorder: new Recorder(), counters: new FaultCounters(), live: new Set() };
  const server = createServer((req, res) => {
    handle(state, req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(`mock provider bug: ${String(err)}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests: () => state.recorder.list(),
    clear: () => {
      state.recorder.clear();
      state.counters.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        // Connections cut by shutdown are not client cancels.
        for (const exchange of state.live) exchange.markServerAborted();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(state: MockState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const method = req.method ?? "GET";
  const text = await readBody(req);
  if (url.pathname.startsWith("/__mock/")) return control(state, method, url.pathname, res);

  const headers = flattenHeaders(req.headers);
  const query = Object.fromEntries(url.searchParams);
  const body = parseBody(text);
  const record = state.recorder.add({ method, path: url.pathname, query, headers, body });
  const match = matchRoute(method, url.pathname);
  const exchange = new Exchange(res, record, match?.route.format ?? formatForPath(url.pathname));
  state.live.add(exchange);
  res.on("close", () => state.live.delete(exchange));

  if (match === undefined) return exchange.error(404, `mock: no route for ${method} ${url.pathname}`);
  const { route, params } = match;
  if (method === "POST" && (body === null || typeof body !== "object")) {
    return exchange.error(400, "mock: the request body is not a JSON object");
  }
  let model: string;
  let options: MockOptions;
  let fault: Fault | undefined;
  try {
    const name = splitModelName(route.rawModel(params, body));
    model = name.model;
    options = readMockOptions(headers, name.suffix);
    fault = options.fault === undefined ? undefined : parseFault(options.fault);
  } catch (err) {
    if (err instanceof MockOptionError) return exchange.error(400, err.message);
    throw err;
  }
  const auth = route.format.authProblem(headers, query);
  if (auth !== undefined) return exchange.error(auth.status, auth.message);

  exchange.chunkDelayMs = options.chunkDelayMs;
  if (options.ttfbMs > 0) await exchange.sleep(options.ttfbMs);
  exchange.fault = fault !== undefined && state.counters.fires(fault) ? fault : undefined;
  if (await beforeAnswer(exchange)) return;
  await route.handle({ id: record.id, query, headers, body, params, model, options, exchange });
}

/** Applies the faults that strike before any answer byte; true when the answer is settled by them. */
async function beforeAnswer(exchange: Exchange): Promise<boolean> {
  const fault = exchange.fault;
  if (fault === undefined) return false;
  if (fault.slowFirstByteMs !== undefined) await exchange.sleep(fault.slowFirstByteMs);
  if (fault.reset) {
    exchange.cut(true);
    return true;
  }
  if (fault.hang) return true; // never answer; the client's timeout or abort ends it
  if (fault.status !== undefined) {
    const retry = fault.status.retryAfterSeconds;
    const headers: Record<string, string> = retry === undefined ? {} : { "retry-after": String(retry) };
    exchange.error(fault.status.code, `mock fault: status ${fault.status.code}`, headers);
    return true;
  }
  return false;
}

/** GET /__mock/requests and POST /__mock/clear: control for tests that cannot call Node functions. */
function control(state: MockState, method: string, path: string, res: ServerResponse): void {
  let status = 200;
  let value: unknown = { ok: true };
  if (method === "GET" && path === "/__mock/requests") value = state.recorder.list();
  else if (method === "POST" && path === "/__mock/clear") {
    state.recorder.clear();
    state.counters.clear();
  } else {
    status = 404;
    value = { error: `mock: no control route ${method} ${path}` };
  }
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(value));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function parseBody(text: string): unknown {
  if (text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return flat;
}
