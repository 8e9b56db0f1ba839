/**
 * Token counts of text without a tokenizer table (o200k's alone was 3 MB of the bundle and
 * 130-220 ms of isolate start). Two numbers, for two uses:
 * - a bound, for reservations: every token of a byte-level BPE (OpenAI's o200k and cl100k,
 *   DeepSeek, Llama 3) stands for at least one byte of UTF-8, so a text never has more tokens than
 *   bytes; a SentencePiece tokenizer with byte fallback (Gemini) also spends at most one token per
 *   byte, plus a word-boundary marker per text, which the per-message allowance covers.
 * - an estimate, for usage the upstream did not report and counts no target can answer: about
 *   four bytes a token, OpenAI's rule of thumb for English (code and CJK run denser, so an
 *   estimate may fall short: such rows are marked `estimated`).
 */

/** Bytes per token assumed by estimates (never by bounds). */
const BYTES_PER_TOKEN = 4;

/**
 * The UTF-8 length of a string, as a TextEncoder would write it: a lone surrogate becomes U+FFFD
 * (3 bytes), as the upstream's JSON decoder will make it. No allocation.
 * @example utf8Bytes("héllo") // 6
 */
export function utf8Bytes(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) {
      bytes += 1;
    } else if (code >= 0xd800 && code <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 2; // a pair: 2 code units, 4 bytes
      i++;
    } else {
      bytes += 2;
    }
  }
  return bytes;
}

const isLowSurrogate = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;

/**
 * The most tokens one text can be for the providers' tokenizers: its UTF-8 bytes.
 * @example textTokenBound("hello world") // 11 (o200k_base: 2)
 */
export function textTokenBound(text: string): number {
  return utf8Bytes(text);
}

/**
 * About how many tokens some text is, from its UTF-8 bytes.
 * @example estimateTextTokens("The quick brown fox jumps over the lazy dog.") // 11 (o200k_base: 10)
 */
export function estimateTextTokens(text: string): number {
  return bytesToTokens(utf8Bytes(text));
}

/** Bytes of text turned into an estimated token count. */
export function bytesToTokens(bytes: number): number {
  return Math.ceil(bytes / BYTES_PER_TOKEN);
}
