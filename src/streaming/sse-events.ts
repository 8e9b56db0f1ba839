import { createParser, type EventSourceParser } from "eventsource-parser";

/** One SSE event: its `event:` field (undefined when absent or empty) and its data. */
export type SseEventHandler = (event: string | undefined, data: string) => void;

/**
 * Splits SSE text into events. eventsource-parser is the SSE parser, but it splits every line into
 * an array and builds strings and an object per event, several microseconds of CPU per relayed
 * event; so the shape providers send (`data: X\n\n`, optionally after one `event: Y` line, LF line
 * ends) is split here with indexOf and slices. Anything else (CR line ends, comments, ids, retry,
 * multi-line or empty data) hands that text and all that follows to eventsource-parser, from an
 * event boundary, so the events are the same either way.
 * @example const sse = new SseSplitter((event, data) => handle(event, data)); sse.feed(text)
 */
export class SseSplitter {
  /** Text of the event not complete yet (never holds `\n\n`). */
  private carry = "";
  private parser: EventSourceParser | null = null;

  constructor(private readonly onEvent: SseEventHandler) {}

  feed(text: string): void {
    if (this.parser) {
      this.parser.feed(text);
      return;
    }
    const buf = this.carry.length > 0 ? this.carry + text : text;
    if (text.includes("\r")) {
      this.fallBack(buf);
      return;
    }
    let at = 0;
    // The carry has no blank line: search only where one can now end (an endless line stays linear).
    let end = buf.indexOf("\n\n", Math.max(0, this.carry.length - 1));
    for (; end !== -1; end = buf.indexOf("\n\n", at)) {
      if (!this.dispatch(buf, at, end)) {
        this.fallBack(buf.slice(at));
        return;
      }
      at = end + 2;
    }
    this.carry = at === 0 ? buf : buf.slice(at);
  }

  /** The event in buf[at, end) when it has the plain shape; false to leave it to the parser. */
  private dispatch(buf: string, at: number, end: number): boolean {
    let event: string | undefined;
    let dataAt = at;
    if (buf.startsWith("event:", at)) {
      const lineEnd = buf.indexOf("\n", at);
      event = fieldValue(buf, at + 6, lineEnd) || undefined;
      dataAt = lineEnd + 1;
    }
    if (dataAt > end || !buf.startsWith("data:", dataAt) || buf.indexOf("\n", dataAt) !== end) return false;
    const data = fieldValue(buf, dataAt + 5, end);
    if (data.length === 0) return false;
    this.onEvent(event, data);
    return true;
  }

  /** From here on eventsource-parser reads everything, starting at an event boundary. */
  private fallBack(rest: string): void {
    this.carry = "";
    this.parser = createParser({ onEvent: (message) => this.onEvent(message.event, message.data) });
    this.parser.feed(rest);
  }
}

/** A field's value: what follows the colon, less one leading space. */
function fieldValue(buf: string, from: number, end: number): string {
  return buf.slice(buf.charCodeAt(from) === SPACE ? from + 1 : from, end);
}

const SPACE = 0x20;
