import type { z } from "zod";
import { badRequest, GatewayError } from "../errors";
import { readCapped } from "../streaming/read-capped";

/**
 * Reads a JSON body with a size cap, then validates it: 413 past the cap, 400 for broken JSON,
 * 400 naming the first bad param (as OpenAI does) for a wrong shape.
 * @example const body = await readJsonBody(c.req.raw, ChatRequest, config.max_body_bytes)
 */
export async function readJsonBody<S extends z.ZodType>(
  request: Request,
  schema: S,
  maxBytes: number,
): Promise<z.output<S>> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const text = new TextDecoder().decode(await readCapped(request.body, maxBytes, () => tooLarge(maxBytes)));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw badRequest(
      "We could not parse the JSON body of your request. The request body must be valid JSON.",
      null,
      "invalid_json",
    );
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw badRequest("The request body must be a JSON object.", null, "invalid_json");
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const param = issue ? formatPath(issue.path) : null;
    throw badRequest(`Invalid value for '${param}': ${issue?.message ?? "invalid"}.`, param, "invalid_value");
  }
  return result.data;
}

/** `messages.0.content` → `messages[0].content`, the way OpenAI names params. */
function formatPath(path: PropertyKey[]): string {
  return path
    .map((part, i) => (typeof part === "number" ? `[${part}]` : `${i === 0 ? "" : "."}${String(part)}`))
    .join("");
}

const tooLarge = (maxBytes: number) =>
  new GatewayError(
    413,
    "invalid_request_error",
    `Request body exceeds ${maxBytes} bytes.`,
    "request_too_large",
  );
