import type { Context } from "hono";
import { type StreamRecorder, storeEntry } from "../cache";
import type { TargetConfig } from "../config";
import type { AppEnv } from "../context";
import { estimateUsage } from "../estimate";
import { SSE_HEADERS } from "../streaming/sse";
import type { StreamEnd } from "../streaming/stream-end";
import type { Admitted } from "./admit";
import { type RequestOutcome, settle } from "./settle";
import type { StreamAnswer } from "./upstream";

/**
 * Answers with the relayed stream, each chunk passed on as it arrives; the request settles once
 * the stream has ended, however it ended (complete, cut short, or the client gone).
 * @example return answerStream(c, admitted, answer)
 */
export function answerStream(
  c: Context<AppEnv>,
  admitted: Admitted,
  answer: StreamAnswer,
  recording: Recording | null = null,
): Response {
  const outcome = answer.ended.then(async (end) => {
    const ended = streamOutcome(end, answer, admitted.promptTokens);
    // Only a stream that ran to its end is stored: never one cut short or left by the client. It
    // settles once the entry is queued, so the settlement's batch carries the store.
    if (recording && end.complete && ended.status === 200) await storeStreamed(c, admitted, recording, ended);
    return ended;
  });
  settle(c, admitted, outcome);
  for (const [name, value] of Object.entries(SSE_HEADERS)) c.header(name, value);
  return c.body(answer.body, 200);
}

/** A streamed miss being recorded for the response cache, and the target answering it. */
export interface Recording {
  recorder: StreamRecorder;
  target: TargetConfig;
}

/** Stores a complete streamed answer, assembled into its JSON form (after the stream, off the hot path). */
async function storeStreamed(
  c: Context<AppEnv>,
  admitted: Admitted,
  { recorder, target }: Recording,
  ended: RequestOutcome,
): Promise<void> {
  const services = c.get("services");
  const body = recorder.answer();
  if (!admitted.cache || !body || !ended.usage) return;
  const entry = {
    body,
    usage: ended.usage,
    provider: target.provider,
    model: target.model,
    storedAt: services.now(),
  };
  const where = { key: admitted.cache.key, ...admitted.cache.policy };
  await storeEntry(services, services.log, where, entry);
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
