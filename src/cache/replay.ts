type Json = Record<string, unknown>;

/**
 * A stored OpenAI JSON answer as the OpenAI stream payloads that would have carried it: one chunk
 * per choice with its whole delta, one with each finish reason, the usage-only chunk, then
 * `[DONE]`. The caller's StreamFormat frames them, so Anthropic and Responses callers get their
 * own events, exactly as for a live stream.
 * @example for (const payload of replayPayloads(entry.body)) out.push(format.frame(payload, usage))
 */
export function replayPayloads(body: Json): string[] {
  const text = body.object === "text_completion";
  const base = {
    id: body.id,
    object: text ? "text_completion" : "chat.completion.chunk",
    created: body.created,
    model: body.model,
    ...(body.system_fingerprint === undefined ? {} : { system_fingerprint: body.system_fingerprint }),
  };
  const choices = Array.isArray(body.choices) ? (body.choices as Json[]) : [];
  const payloads: string[] = [];
  for (const choice of choices) {
    const content = text ? { text: choice.text ?? "" } : { delta: chatDelta(choice.message) };
    payloads.push(
      JSON.stringify({ ...base, choices: [{ index: choice.index ?? 0, ...content, finish_reason: null }] }),
    );
  }
  for (const choice of choices) {
    const empty = text ? { text: "" } : { delta: {} };
    payloads.push(
      JSON.stringify({
        ...base,
        choices: [{ index: choice.index ?? 0, ...empty, finish_reason: choice.finish_reason ?? "stop" }],
      }),
    );
  }
  if (body.usage && typeof body.usage === "object") {
    payloads.push(JSON.stringify({ ...base, choices: [], usage: body.usage }));
  }
  payloads.push("[DONE]");
  return payloads;
}

/** A chat message as one delta: its tool calls numbered, as stream deltas carry them. */
function chatDelta(message: unknown): Json {
  if (!message || typeof message !== "object") return { role: "assistant", content: "" };
  const { tool_calls: calls, ...rest } = message as Json;
  if (!Array.isArray(calls)) return rest;
  return { ...rest, tool_calls: calls.map((call, index) => ({ index, ...(call as Json) })) };
}
