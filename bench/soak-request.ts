/** One soak request on raw node:http: its outcome as a status key, the error code of a failure included. */
import { type Agent, request } from "node:http";
import type { SoakKind } from "./soak-mix";

export interface Outcome {
  /** "200", "200 without [DONE]", "aborted by the client", "<status> <error code>", "network error". */
  key: string;
  status: number;
  /** False for client aborts and network errors: no latency to count. */
  answered: boolean;
}

/** Error bodies are small; read at most this much of one. */
const MAX_ERROR_BODY = 4_096;

/** The OpenAI-shaped error's code (or type), to tell `limits_unavailable` from other 5xx. */
function errorCode(body: string): string {
  try {
    const error = (JSON.parse(body) as { error?: { code?: unknown; type?: unknown } }).error;
    return String(error?.code ?? error?.type ?? "no code");
  } catch {
    return "not JSON";
  }
}

/**
 * Sends the kind's call; an abort kind drops the connection at the first body byte.
 * @example const outcome = await sendSoakRequest("http://127.0.0.1:8787", kind, agent);
 */
export async function sendSoakRequest(baseUrl: string, kind: SoakKind, agent: Agent): Promise<Outcome> {
  // A keep-alive socket the server closed as the request left: the request never reached it
  // (Node's documented race, `req.reusedSocket`); send it again, as any HTTP client would.
  let outcome = await sendOnceOver(baseUrl, kind, agent);
  for (let retry = 0; retry < 3 && outcome === STALE_SOCKET; retry++)
    outcome = await sendOnceOver(baseUrl, kind, agent);
  return outcome;
}

/** The outcome of a request written to a reused socket that was reset before any answer. */
const STALE_SOCKET: Outcome = { key: "stale keep-alive socket", status: 0, answered: false };

function sendOnceOver(baseUrl: string, kind: SoakKind, agent: Agent): Promise<Outcome> {
  const url = new URL(baseUrl);
  const payload = Buffer.from(kind.call.body ?? "");
  return new Promise((resolve) => {
    let settled = false;
    const done = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: kind.call.method,
        path: kind.call.path,
        headers: { ...kind.call.headers, "content-length": payload.length },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          if (kind.abort && status === 200) {
            done({ key: "aborted by the client", status, answered: false });
            req.destroy();
            return;
          }
          // A stream's end is all that matters; an error's code is at its start.
          body = status === 200 ? (body + chunk).slice(-64) : (body + chunk).slice(0, MAX_ERROR_BODY);
        });
        res.once("error", () => done({ key: `${status} cut short`, status, answered: false }));
        res.once("end", () => {
          if (status !== 200) return done({ key: `${status} ${errorCode(body)}`, status, answered: true });
          const complete = !kind.call.stream || body.trimEnd().endsWith("data: [DONE]");
          done({ key: complete ? "200" : "200 without [DONE]", status, answered: true });
        });
      },
    );
    let answered = false;
    req.once("response", () => {
      answered = true;
    });
    req.once("error", (err: NodeJS.ErrnoException) => {
      if (!answered && req.reusedSocket && err.code === "ECONNRESET") return done(STALE_SOCKET);
      done({ key: `network error ${err.code ?? err.message}`, status: 0, answered: false });
    });
    req.end(payload);
  });
}
