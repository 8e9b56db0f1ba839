/** Deterministic text for mock replies: word counting, reply text, stream pieces, JSON fragments. */

/** Words appended, in order and repeating, when a reply must be longer than its base text. */
export const FILLER_WORDS = ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit"];

/** How many words of the last user message the default reply echoes. */
export const ECHOED_WORDS = 8;

/**
 * The mock's token count of a text: its number of whitespace-separated words.
 * @example countMockTokens("Hello  there\nworld") // 3
 */
export function countMockTokens(text: string): number {
  const trimmed = text.trim();
  return trimmed === "" ? 0 : trimmed.split(/\s+/).length;
}

/** The first `n` whitespace-separated words of `text`, joined by single spaces. */
export function firstWords(text: string, n: number): string {
  const trimmed = text.trim();
  if (trimmed === "" || n <= 0) return "";
  return trimmed.split(/\s+/).slice(0, n).join(" ");
}

/** What the reply text depends on besides the conversation. */
export interface ReplyTextOptions {
  /** Exact reply text (header `x-mock-reply`). */
  reply?: string;
  /** Exact number of words for the default reply (header `x-mock-words`). */
  words?: number;
}

/**
 * The reply before any max-tokens cut: the exact `reply` if given, else
 * `Mock reply to: <first 8 words of the last user message>`, padded with FILLER_WORDS or cut to
 * `words` words when `words` is given.
 * @example mockReplyText("What is the capital of France?", { words: 4 }) // "Mock reply to: What"
 */
export function mockReplyText(lastUserText: string, options: ReplyTextOptions = {}): string {
  if (options.reply !== undefined) return options.reply;
  const echoed = firstWords(lastUserText, ECHOED_WORDS);
  const base = ["Mock", "reply", "to:", ...(echoed === "" ? [] : echoed.split(" "))];
  if (options.words === undefined) return base.join(" ");
  const words = base.slice(0, options.words);
  for (let i = 0; words.length < options.words; i++) words.push(FILLER_WORDS[i % FILLER_WORDS.length] ?? "");
  return words.join(" ");
}

/**
 * Splits text into stream pieces of one word each, keeping the whitespace in front of each word,
 * so that joining the pieces gives back the text exactly.
 * @example splitIntoPieces("a b  c") // ["a", " b", "  c"]
 */
export function splitIntoPieces(text: string): string[] {
  const pieces = text.match(/\s*\S+/g) ?? [];
  const trailing = text.slice(pieces.join("").length);
  if (pieces.length === 0) return trailing === "" ? [] : [trailing];
  pieces[pieces.length - 1] += trailing;
  return pieces;
}

/**
 * Splits a JSON text into fragments of `size` characters, as providers stream tool arguments.
 * @example splitFragments('{"a":1}', 3) // ['{"a', '":1', '}']
 */
export function splitFragments(json: string, size = 6): string[] {
  const fragments: string[] = [];
  for (let i = 0; i < json.length; i += size) fragments.push(json.slice(i, i + size));
  return fragments;
}
