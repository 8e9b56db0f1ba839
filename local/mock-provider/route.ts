/** The shape every mock route shares, and small helpers for reading request bodies. */

import type { Exchange, WireFormat } from "./exchange";
import type { MockOptions } from "./options";

/** A wire format plus its rule for refusing unauthenticated requests. */
export interface ProviderFormat extends WireFormat {
  /** Why a request lacks credentials (status and message), or undefined when it has them. */
  authProblem(headers: Record<string, string>, query: Record<string, string>): AuthProblem | undefined;
}

/** A refused request: HTTP status and message for the format's error body. */
export interface AuthProblem {
  status: number;
  message: string;
}

/** Everything a route handler gets about its request. */
export interface RouteContext {
  id: number;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
  /** Captures of the route's path pattern. */
  params: string[];
  /** The model to echo: the request's model without its `+name=value` suffix. */
  model: string;
  options: MockOptions;
  exchange: Exchange;
}

/** One endpoint of the mock. */
export interface Route {
  method: "GET" | "POST";
  pattern: RegExp;
  format: ProviderFormat;
  /** The model name as the request gave it, suffix included ("" when there is none). */
  rawModel(params: string[], body: unknown): string;
  handle(ctx: RouteContext): Promise<void>;
}

/** The body as a plain object, or an empty object when it is not one. */
export function bodyObject(body: unknown): Record<string, unknown> {
  return body !== null && typeof body === "object" && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : {};
}

/** The body's `model` field when it is a string, else "". */
export function bodyModel(_params: string[], body: unknown): string {
  const model = bodyObject(body).model;
  return typeof model === "string" ? model : "";
}

/** Seconds since the epoch, as the `created` fields of OpenAI objects. */
export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
