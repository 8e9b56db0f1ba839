import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One address in front of several gateway processes. */
export interface Balancer {
  url: string;
  close(): Promise<void>;
}

/** Hop-by-hop headers a proxy must not forward (RFC 9110 §7.6.1). */
const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
];

/**
 * Round-robin HTTP proxy over `upstreams` (http://127.0.0.1:port each): bodies stream both ways,
 * an upstream that refuses the connection is skipped for the next one (a process restarting), and
 * a client that goes away aborts the upstream request, so a stream's upstream call is cancelled.
 * For production, any HTTP load balancer (nginx, HAProxy, Caddy) does the same job.
 * @example const lb = await startBalancer({ upstreams: [a.url, b.url], port: 8787 });
 */
export async function startBalancer(opts: {
  upstreams: string[];
  port: number;
  host?: string;
}): Promise<Balancer> {
  let next = 0;
  const forward = (req: IncomingMessage, res: ServerResponse, tries: number) => {
    const target = new URL(opts.upstreams[next++ % opts.upstreams.length] as string);
    const headers = { ...req.headers };
    for (const name of HOP_BY_HOP) delete headers[name];
    headers["x-forwarded-for"] = req.socket.remoteAddress ?? "";
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      (answer) => {
        const out = { ...answer.headers };
        for (const name of HOP_BY_HOP) delete out[name];
        res.writeHead(answer.statusCode ?? 502, out);
        answer.pipe(res);
      },
    );
    upstream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ECONNREFUSED" && tries + 1 < opts.upstreams.length && !req.readableDidRead) {
        forward(req, res, tries + 1);
        return;
      }
      if (!res.headersSent) res.writeHead(502, { "content-type": "application/json" });
      res.end(
        res.headersSent
          ? undefined
          : JSON.stringify({
              error: { type: "api_error", code: "bad_gateway", message: "no gateway process answered" },
            }),
      );
    });
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  };
  const server = createServer((req, res) => forward(req, res, 0));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host && opts.host !== "0.0.0.0" ? opts.host : "127.0.0.1"}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
