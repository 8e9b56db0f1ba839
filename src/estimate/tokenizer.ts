import { countTokens } from "gpt-tokenizer/encoding/o200k_base";

/**
 * The gateway's one tokenizer: o200k_base, the encoding of current OpenAI models. Other vendors'
 * tokenizers differ by some percent: fine for reservations that settle to the real usage, and
 * for usage rows marked `estimated`.
 */

/** Special-token strings in user text are counted as plain text, never rejected. */
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/**
 * Tokens in one text with the o200k_base encoding.
 * @example countTextTokens("hello world") // 2
 */
export function countTextTokens(text: string): number {
  return text.length === 0 ? 0 : countTokens(text, PLAIN_TEXT);
}

/**
 * Token counts of texts seen lately. Prompt texts repeat across requests (a system prompt; every
 * earlier turn of a conversation comes again with the next one), and tokenizing costs ~0.2 us of
 * CPU per character where a lookup costs a hash of the string. Bounded by characters held; the
 * oldest entries go first.
 */
class CountMemo {
  private readonly counts = new Map<string, number>();
  private chars = 0;

  constructor(private readonly maxChars: number) {}

  count(text: string): number {
    const known = this.counts.get(text);
    if (known !== undefined) return known;
    const tokens = countTextTokens(text);
    if (text.length <= this.maxChars / 16) {
      this.counts.set(text, tokens);
      this.chars += text.length;
      for (const old of this.counts.keys()) {
        if (this.chars <= this.maxChars) break;
        this.counts.delete(old);
        this.chars -= old.length;
      }
    }
    return tokens;
  }
}

const promptCounts = new CountMemo(1_000_000);

/**
 * Tokens in one prompt text, remembered across requests of this isolate.
 * @example countPromptText(systemPrompt) // tokenized once, then looked up
 */
export function countPromptText(text: string): number {
  return promptCounts.count(text);
}
