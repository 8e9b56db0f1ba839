import { connect, type Socket } from "node:net";
import type { RawData, WebSocket } from "ws";

/** Same as Neon's /v2 proxy: pipes a WebSocket's binary frames to a TCP socket and back, byte for byte. */
export function bridgeWebSocketToTcp(ws: WebSocket, target: { host: string; port: number }): Socket {
  const tcp = connect({ host: target.host, port: target.port });
  tcp.setNoDelay(true);

  // Frames that arrive before the TCP connect completes are queued by the socket itself.
  ws.on("message", (data: RawData) => {
    tcp.write(Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer));
  });
  tcp.on("data", (chunk) => {
    if (ws.readyState === ws.OPEN) ws.send(chunk);
  });

  // PGlite never closes its side after the client's Terminate: when the client goes away, end our
  // side (half-close) so the server sees EOF and finishes; never wait for the server to close first.
  ws.on("close", () => tcp.end());
  ws.on("error", () => tcp.destroy());
  tcp.on("close", () => {
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close();
  });
  tcp.on("error", () => {
    if (ws.readyState !== ws.CLOSED) ws.terminate();
  });
  return tcp;
}
