import type { z } from "zod";
import { badRequest, GatewayError } from "../errors";
import { readText } from "../streaming/read-body";

/** The default of config `body_timeout_ms`, for bodies read without the config (the admin API). */
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;

/**
 * Reads a JSON body with a size cap and a deadline, then validates it: 413 past the cap, 408 when
 * the whole body has not arrived within `timeoutMs` (a total, not an idle time: a client trickling
 * one byte at a time is cut off too), 400 for broken JSON, 400 naming the first bad param (as
 * OpenAI does) for a wrong shape.
 * @example const body = await readJsonBody(c.req.raw, ChatRequest, config.max_body_bytes, config.body_timeout_ms)
 */
export async function readJsonBody<S extends z.ZodType>(
  request: Request,
  schema: S,
  maxBytes: number,
  timeoutMs: number = DEFAULT_BODY_TIMEOUT_MS,
): Promise<z.output<S>> {
  return (await readCheckedJsonBody(request, schema, maxBytes, timeoutMs)).parsed;
}

/**
 * `readJsonBody`, keeping the body as the caller sent it beside the parsed one: a native
 * passthrough validates with the schema but sends the original on.
 * @example const { original, parsed } = await readCheckedJsonBody(c.req.raw, MessagesRequest, max, timeout)
 */
export async function readCheckedJsonBody<S extends z.ZodType>(
  request: Request,
  schema: S,
  maxBytes: number,
  timeoutMs: number = DEFAULT_BODY_TIMEOUT_MS,
): Promise<{ original: Record<string, unknown>; parsed: z.output<S> }> {
  const text = await readText(request, maxBytes, () => tooLarge(maxBytes), {
    ms: timeoutMs,
    timedOut: () => timedOut(timeoutMs),
  });
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
    throw badRequest(`Invalid value for '${param}': ${issueMessage(issue)}.`, param, "invalid_value");
  }
  return { original: json as Record<string, unknown>, parsed: result.data };
}

/**
 * A union's own message is a bare "Invalid input". When one branch took the value's type and
 * failed only on a bound ("2,049 inputs: at most 2,048"), that is the message worth reading.
 */
function issueMessage(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return "invalid";
  if (issue.code !== "invalid_union") return issue.message;
  const wrongType = (branch: z.core.$ZodIssue[]) =>
    branch.length === 1 && branch[0]?.code === "invalid_type" && branch[0].path.length === 0;
  const closest = issue.errors.filter((branch) => !wrongType(branch)).sort((a, b) => a.length - b.length)[0];
  const only = closest?.length === 1 ? closest[0] : undefined;
  return only && only.path.length === 0 ? only.message : issue.message;
}

/** `messages.0.content` → `messages[0].content`, the way OpenAI names params. */
function formatPath(path: PropertyKey[]): string {
  return path
    .map((part, i) => (typeof part === "number" ? `[${part}]` : `${i === 0 ? "" : "."}${String(part)}`))
    .join("");
}

const tooLarge = (maxBytes: number) =>
  new GatewayError({
    status: 413,
    type: "invalid_request_error",
    message: `Request body exceeds ${maxBytes} bytes.`,
    code: "request_too_large",
  });

const timedOut = (timeoutMs: number) =>
  new GatewayError({
    status: 408,
    type: "invalid_request_error",
    message: `The request body did not arrive in full within ${timeoutMs} ms.`,
    code: "request_timeout",
  });
