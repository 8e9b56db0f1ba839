import { toBase64 } from "../encoding";
import { UnsupportedFeatureError } from "../providers/common/errors";
import type { ImageFetcher } from "../providers/gemini";
import { readBody } from "../streaming/read-body";
import { startTimer } from "../timers";

/**
 * SSRF-safe fetching of caller-supplied image URLs, for the one provider that needs the bytes
 * (Gemini). Only https URLs naming a public host are fetched, with size, time and redirect limits;
 * anything else is a 400 `invalid_image_url`.
 *
 * Limitation: workerd cannot resolve DNS, so a public-looking name that resolves to a private
 * address is not caught here. On Cloudflare the egress path never reaches private ranges anyway;
 * a self-hosted workerd must sit behind an egress firewall that blocks them.
 */

export interface RemoteImageLimits {
  /** Largest image accepted, checked on Content-Length and again while reading. */
  maxBytes: number;
  /** Deadline for the whole fetch, redirects and body included. */
  timeoutMs: number;
  /** Redirects followed, each target checked like the original URL. */
  maxRedirects: number;
}

export const REMOTE_IMAGE_LIMITS: RemoteImageLimits = Object.freeze({
  maxBytes: 5 * 1024 * 1024,
  timeoutMs: 5_000,
  maxRedirects: 2,
});

/**
 * An ImageFetcher over `fetcher` that refuses anything but public https images within `limits`.
 * Each distinct URL is fetched once per fetcher, so create one per request: retries and a second
 * Gemini target reuse the bytes.
 * @example const fetchImage = createRemoteImageFetcher(services.fetcher)
 */
export function createRemoteImageFetcher(
  fetcher: typeof fetch,
  limits: RemoteImageLimits = REMOTE_IMAGE_LIMITS,
): ImageFetcher {
  const fetched = new Map<string, ReturnType<ImageFetcher>>();
  return (url) => {
    let image = fetched.get(url);
    if (!image) {
      image = fetchImage(url, fetcher, limits);
      fetched.set(url, image);
    }
    return image;
  };
}

/**
 * Checks a URL the gateway is about to fetch: https on the default port, no credentials, and a
 * host that is neither a private, loopback, link-local, CGNAT, multicast or reserved IP literal
 * (v4 or v6) nor a local name (`localhost`, `*.local`, `*.internal`, single labels).
 * @example checkImageUrl("https://example.com/cat.png") // URL
 */
export function checkImageUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refused("The image URL is not a valid URL.");
  }
  if (url.protocol !== "https:") throw refused("Image URLs must use https.");
  if (url.username || url.password) throw refused("Image URLs must not carry credentials.");
  // The WHATWG parser drops ":443"; any other port is not a public image host's.
  if (url.port !== "") throw refused("Image URLs must use the default https port.");
  if (!isPublicHost(url.hostname)) throw refused("The image URL's host is not a public address.");
  return url;
}

/**
 * True for a host the gateway may contact. `hostname` comes from the URL parser, which already
 * turned IPv4 in any notation (hex, octal, one number) into dotted decimal and IPv6 into
 * bracketed, lower-case hex.
 */
export function isPublicHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.+$/, "");
  if (host.startsWith("[")) return isPublicIPv6(host.slice(1, -1));
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return isPublicIPv4(host);
  // Single labels resolve through search domains to internal hosts (e.g. "metadata").
  if (!host.includes(".")) return false;
  return !LOCAL_SUFFIXES.some((suffix) => host.endsWith(suffix));
}

const LOCAL_SUFFIXES = [".localhost", ".local", ".internal", ".localdomain", ".home.arpa"];

/** Non-public IPv4 blocks as [network, prefix length] (IANA special-purpose registry). */
const BLOCKED_V4: [string, number][] = [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // CGNAT
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local, cloud metadata
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relay
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
];

function ipv4Number(address: string): number {
  return address.split(".").reduce((value, octet) => value * 256 + Number(octet), 0);
}

function isPublicIPv4(address: string): boolean {
  const value = ipv4Number(address);
  return !BLOCKED_V4.some(([network, prefix]) => {
    const size = 2 ** (32 - prefix);
    const start = ipv4Number(network);
    return value >= start && value < start + size;
  });
}

/**
 * Only global unicast (2000::/3) is public; inside it, the IETF block 2001::/23 (Teredo,
 * benchmarking, ORCHID), documentation 2001:db8::/32 and 6to4 2002::/16 (which embeds any IPv4)
 * are refused too. Loopback, unique-local, link-local, multicast, IPv4-mapped and NAT64 addresses
 * all lie outside 2000::/3.
 */
function isPublicIPv6(address: string): boolean {
  const groups = ipv6Groups(address);
  if (!groups) return false;
  const [first = 0, second = 0] = groups;
  if ((first & 0xe000) !== 0x2000) return false;
  if (first === 0x2001 && (second < 0x0200 || second === 0x0db8)) return false;
  return first !== 0x2002;
}

/** The eight 16-bit groups of a hex IPv6 address (as the URL parser writes it), or null. */
function ipv6Groups(address: string): number[] | null {
  const halves = address.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string | undefined) =>
    part ? part.split(":").map((g) => Number.parseInt(g, 16)) : [];
  const head = parse(halves[0]);
  const tail = parse(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 0) return null;
  const groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  return groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

async function fetchImage(
  url: string,
  fetcher: typeof fetch,
  limits: RemoteImageLimits,
): Promise<{ mimeType: string; base64: string }> {
  const controller = new AbortController();
  const timer = startTimer(limits.timeoutMs);
  const deadline = timer.elapsed.then((): never => {
    controller.abort();
    throw refused("The image URL did not answer in time.");
  });
  try {
    const response = await Promise.race([follow(url, fetcher, limits, controller.signal), deadline]);
    const mimeType = (response.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    if (!mimeType.startsWith("image/")) {
      await response.body?.cancel();
      throw refused("The image URL does not point to an image.");
    }
    const length = Number(response.headers.get("content-length"));
    if (Number.isFinite(length) && length > limits.maxBytes) {
      await response.body?.cancel();
      throw tooLarge(limits);
    }
    const bytes = await Promise.race([
      readBody(response.body, limits.maxBytes, () => tooLarge(limits)),
      deadline,
    ]);
    return { mimeType, base64: toBase64(bytes) };
  } catch (err) {
    // A body cut mid-read is the image host's failure: still the caller's 400, never a 500.
    throw err instanceof UnsupportedFeatureError ? err : refused("The image could not be read.");
  } finally {
    timer.cancel();
  }
}

/** Fetches without following redirects automatically: each hop is checked before it is taken. */
async function follow(
  start: string,
  fetcher: typeof fetch,
  limits: RemoteImageLimits,
  signal: AbortSignal,
): Promise<Response> {
  let url = checkImageUrl(start);
  for (let hop = 0; ; hop++) {
    let response: Response;
    try {
      response = await fetcher(url.href, {
        method: "GET",
        redirect: "manual",
        signal,
        headers: { accept: "image/*" },
      });
    } catch {
      throw refused("The image URL could not be fetched.");
    }
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      if (hop >= limits.maxRedirects) throw refused("The image URL redirects too many times.");
      url = checkImageUrl(new URL(location, url).href);
      continue;
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw refused(`The image URL answered ${response.status}.`);
    }
    return response;
  }
}

/** A 400 that also tells routing this target cannot take the request (another kind of target may). */
function refused(reason: string): UnsupportedFeatureError {
  return new UnsupportedFeatureError(
    `${reason} Gemini needs the image bytes, so the gateway fetches image URLs only over https from public hosts; or send a base64 data URL.`,
    "messages",
    "invalid_image_url",
  );
}

function tooLarge(limits: RemoteImageLimits): UnsupportedFeatureError {
  return refused(`The image is larger than ${limits.maxBytes / (1024 * 1024)} MB.`);
}
