import type { OutputFormat } from "../../proxy/output";
import { chatCompletionToResponse, type ResponseFrame } from "./response";
import { createResponsesEventEncoder, sseEvent } from "./stream";

type Json = Record<string, unknown>;

/** What the Responses output does once the whole answer is known (stores it, unless `store: false`). */
export type OnFinalResponse = (response: Json) => void;

/**
 * Responses API output for answers translated from chat completions (any provider): the JSON
 * answer as a Response, the stream as Responses events.
 * @example proxy(c, { endpoint: "chat", body: chat, stream, output: translatedResponsesOutput(frame, onFinal) }, timing)
 */
export function translatedResponsesOutput(frame: ResponseFrame, onFinal: OnFinalResponse): OutputFormat {
  return {
    stream: (costOf) => {
      const encoder = createResponsesEventEncoder(frame, costOf, onFinal);
      return {
        frame: (payload, usage) => encoder.push(payload, usage) || null,
        fail: (error) => encoder.fail(error.error),
      };
    },
    json: (body) => {
      const response = chatCompletionToResponse(body, frame);
      onFinal(response);
      return response;
    },
  };
}

/** Events whose data carries the whole response object (the only place its id appears). */
const RESPONSE_EVENTS = new Set([
  "response.created",
  "response.in_progress",
  "response.queued",
  "response.completed",
  "response.incomplete",
]);
const FINAL_EVENTS = new Set(["response.completed", "response.incomplete"]);

/**
 * Responses API output for a provider that speaks it natively: its answer and events pass through
 * as they are, except that the response carries the gateway's id (so stored state is the
 * gateway's, scoped to the tenant) and the caller's `previous_response_id`, and the final
 * response's usage its cost.
 * @example proxy(c, { endpoint: "responses", body, stream, output: nativeResponsesOutput(frame, onFinal) }, timing)
 */
export function nativeResponsesOutput(frame: ResponseFrame, onFinal: OnFinalResponse): OutputFormat {
  const own = (response: Json) => {
    response.id = frame.id;
    response.previous_response_id = frame.request.previous_response_id ?? null;
    return response;
  };
  return {
    stream: (costOf) => {
      let sequence = 0;
      return {
        frame(payload, usage) {
          // Upstream events are numbered from 0 one by one: the count is the next number.
          sequence++;
          const type = eventType(payload);
          if (type === null || !RESPONSE_EVENTS.has(type))
            return `event: ${type ?? "message"}\ndata: ${payload}\n\n`;
          const event = JSON.parse(payload) as Json & { response: Json };
          own(event.response);
          if (FINAL_EVENTS.has(type)) {
            const eventUsage = event.response.usage as Json | undefined;
            if (eventUsage && usage) eventUsage.cost = costOf(usage);
            onFinal(event.response);
          }
          return sseEvent(event);
        },
        fail: (error) => {
          const { message, code, param } = error.error;
          return sseEvent({
            type: "error",
            code: code ?? "upstream_error",
            message,
            param,
            sequence_number: sequence,
          });
        },
      };
    },
    json: (body) => {
      own(body);
      onFinal(body);
      return body;
    },
  };
}

/** An event's `type`, read without parsing the whole event when it comes first (as OpenAI writes it). */
function eventType(payload: string): string | null {
  const lead = /^\{\s*"type"\s*:\s*"([a-z0-9_.]+)"/.exec(payload);
  if (lead) return lead[1] ?? null;
  try {
    const type = (JSON.parse(payload) as Json).type;
    return typeof type === "string" && /^[a-z0-9_.]+$/.test(type) ? type : null;
  } catch {
    return null;
  }
}
