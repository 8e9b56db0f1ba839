/**
 * Extended thinking as the real API treats it: a thinking block carries a signature over its
 * text, a request that sends a thinking block back with a changed text or signature is refused,
 * and with thinking on, an assistant turn that called tools must still start with its thinking.
 */

import { createHash } from "node:crypto";
import { countMockTokens } from "./text";

/** The thinking block the mock answers with, and what it costs. */
export interface MockThinking {
  thinking: string;
  signature: string;
  tokens: number;
}

/**
 * The signature the mock gives a thinking text (real ones are opaque, too).
 * @example signatureOf("Considering the question") // "bW9jay1zaWc..."
 */
export function signatureOf(thinking: string): string {
  return createHash("sha256").update(`mock-thinking:${thinking}`).digest("base64");
}

/** The thinking block for this request, or null when thinking is off. */
export function plannedThinking(body: Record<string, unknown>, lastUserText: string): MockThinking | null {
  const mode = (body.thinking as { type?: unknown } | undefined)?.type;
  if (mode !== "enabled" && mode !== "adaptive") return null;
  const thinking = `Considering: ${lastUserText.split(/\s+/).slice(0, 8).join(" ")}`.trim();
  return { thinking, signature: signatureOf(thinking), tokens: countMockTokens(thinking) };
}

/**
 * Why the messages' thinking blocks are refused (400 message), or undefined: a block whose
 * signature does not match its text, or (thinking on) a tool-calling assistant turn without its
 * thinking block first.
 */
export function thinkingProblem(body: Record<string, unknown>): string | undefined {
  const messages = Array.isArray(body.messages) ? (body.messages as Record<string, unknown>[]) : [];
  const on = plannedThinking(body, "") !== null;
  for (const [i, message] of messages.entries()) {
    if (message.role !== "assistant" || !Array.isArray(message.content)) continue;
    const blocks = message.content as Record<string, unknown>[];
    for (const [j, block] of blocks.entries()) {
      if (block.type !== "thinking") continue;
      if (typeof block.thinking !== "string" || block.signature !== signatureOf(block.thinking))
        return `messages.${i}.content.${j}: Invalid \`signature\` in \`thinking\` block`;
    }
    const first = blocks[0]?.type;
    const callsTools = blocks.some((b) => b.type === "tool_use");
    if (on && callsTools && first !== "thinking" && first !== "redacted_thinking") {
      return `messages.${i}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${String(first)}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block.`;
    }
  }
  return undefined;
}
