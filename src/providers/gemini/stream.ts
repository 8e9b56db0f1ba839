import { deltaChunk, parseEventData, usageChunk } from "../common/chat-response";
import { UNREADABLE_STREAM_ERROR } from "../common/errors";
import {
  MalformedUpstreamError,
  type ProviderError,
  type ResponseContext,
  type StreamTranslator,
  type TokenUsage,
} from "../types";
import { parseGeminiErrorBody } from "./error";
import { finishReasonOf, type GeminiResponse, geminiUsage, toolCallOf } from "./response";

/** A stream translator that can also say why the upstream failed mid-stream. */
export interface GeminiStreamTranslator extends StreamTranslator {
  /** An error object the upstream sent inside the stream, as an OpenAI-shaped error, or null. */
  upstreamError(): ProviderError | null;
}

interface CandidateState {
  toolCalls: number;
  finished: boolean;
}

/**
 * Translates `streamGenerateContent?alt=sse` events (each a whole GenerateContentResponse) into
 * OpenAI chunks. Gemini sends each function call whole, so a tool call is one delta with id,
 * name and arguments. Gemini has no end event: the answer is complete when every candidate sent
 * a `finishReason`, and the usage chunk and `[DONE]` come from `finish()` at the end of the body,
 * with the usage of the last `usageMetadata` seen. A data line that is not a JSON object throws
 * `MalformedUpstreamError`.
 */
export function createGeminiStreamTranslator(ctx: ResponseContext): GeminiStreamTranslator {
  const candidates = new Map<number, CandidateState>();
  let rawUsage: unknown = null;
  let failure: ProviderError | null = null;
  let usageSent = false;
  let generated = "";

  const usage = (): TokenUsage | null => geminiUsage(rawUsage);
  const usagePayloads = (): string[] => {
    const known = usage();
    if (!known || usageSent) return [];
    usageSent = true;
    return [usageChunk(ctx, known)];
  };
  const stateOf = (index: number, out: string[]): CandidateState => {
    let state = candidates.get(index);
    if (!state) {
      state = { toolCalls: 0, finished: false };
      candidates.set(index, state);
      out.push(deltaChunk(ctx, index, { role: "assistant", content: "" }));
    }
    return state;
  };

  return {
    push({ data }) {
      if (failure) return [];
      const payload = parseEventData(data);
      if (!payload) throw new MalformedUpstreamError();
      if (payload.error) {
        failure = parseGeminiErrorBody(payload) ?? UNREADABLE_STREAM_ERROR;
        return [];
      }
      const response = payload as GeminiResponse;
      if (response.usageMetadata) rawUsage = response.usageMetadata;
      const out: string[] = [];
      for (const candidate of response.candidates ?? []) {
        const index = candidate.index ?? 0;
        const state = stateOf(index, out);
        if (state.finished) continue;
        for (const part of candidate.content?.parts ?? []) {
          if (part.functionCall) {
            const call = toolCallOf(part, ctx, index, state.toolCalls);
            out.push(deltaChunk(ctx, index, { tool_calls: [{ index: state.toolCalls, ...call }] }));
            generated += call.function.arguments;
            state.toolCalls++;
          } else if (part.thought && part.text) {
            out.push(deltaChunk(ctx, index, { reasoning_content: part.text }));
            generated += part.text;
          } else if (part.text) {
            out.push(deltaChunk(ctx, index, { content: part.text }));
            generated += part.text;
          }
        }
        if (candidate.finishReason) {
          state.finished = true;
          out.push(deltaChunk(ctx, index, {}, finishReasonOf(candidate.finishReason, state.toolCalls > 0)));
        }
      }
      if (!response.candidates?.length && response.promptFeedback?.blockReason) {
        const state = stateOf(0, out);
        if (!state.finished) {
          state.finished = true;
          out.push(deltaChunk(ctx, 0, {}, "content_filter"));
        }
      }
      return out;
    },
    finish() {
      const done = !failure && candidates.size > 0 && [...candidates.values()].every((c) => c.finished);
      const payloads = usagePayloads();
      if (done) payloads.push("[DONE]");
      return { payloads, complete: done };
    },
    usage,
    generatedText: () => generated,
    upstreamError: () => failure,
  };
}
