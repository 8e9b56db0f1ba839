import type { Context } from "hono";
import type { AppEnv } from "../context";
import { estimateUsage } from "../estimate";
import type { StreamEnd } from "../streaming/relay";
import { SSE_HEADERS } from "../streaming/sse";
import type { Admitted } from "./admit";
import { type RequestOutcome, settle } from "./settle";
import type { StreamAnswer } from "./upstream";

/**
 * Answers with the relayed stream, each chunk passed on as it arrives; the request settles once
 * the stream has ended, however it ended (complete, cut short, or the client gone).
 * @example return answerStream(c, admitted, answer)
 */
export function answerStream(c: Context<AppEnv>, admitted: Admitted, answer: StreamAnswer): Response {
  settle(
    c,
    admitted,
    answer.ended.then((end) => streamOutcome(end, answer, admitted.promptTokens)),
  );
  for (const [name, value] of Object.entries(SSE_HEADERS)) c.header(name, value);
  return c.body(answer.body, 200);
}

/**
 * How a stream ended, for its usage row: 502 when the upstream cut it short, 499 when the client
 * left; usage as reported, else estimated from the prompt and the text actually delivered.
 */
function streamOutcome(end: StreamEnd, answer: StreamAnswer, promptTokens: number): RequestOutcome {
  const reported = answer.usage();
  return {
    status: end.errorCode ? 502 : end.cancelled ? 499 : 200,
    errorCode: end.errorCode ?? (end.cancelled ? "client_closed_request" : null),
    usage: reported ?? estimateUsage(promptTokens, answer.generatedText()),
    usageSource: reported ? "provider" : "estimated",
    ttfbMs: answer.ttfbMs,
  };
}
