import { joinBytes } from "./bytes";

/**
 * Notices when what a relay is about to send the client is exactly the upstream bytes read since
 * it last sent something (every event passed on unchanged, as most are), so those bytes go out as
 * they came: no UTF-8 encoding of the framed text, no new string. Reads that complete no event (an
 * upstream event often arrives in two reads) are kept until the one that does.
 * @example verbatim.took(bytes, text, pending); const same = verbatim.bytes(); if (same) write(same)
 */
export class VerbatimReads {
  /** The reads since something was last sent, and their text. */
  private reads: Uint8Array[] = [];
  private text = "";
  /** Whether a read came since something was last sent. */
  private open = false;
  /** Whether the open reads can still match (none started mid-character, none dropped). */
  private usable = false;
  /** Whether the decoder may hold part of a character after the last read (it ended on a non-ASCII byte). */
  private split = false;
  private first = true;
  /** The bytes to send for the last read, when they match: the reads since the last send. */
  private match: Uint8Array | null = null;

  /**
   * One upstream read (its bytes and their decoded text) and the framed text now waiting for the
   * client: empty when the read completed nothing to send.
   */
  took(bytes: Uint8Array, text: string, pending: string): void {
    if (!this.open) {
      // The decoder drops a byte-order mark at the very start: those bytes are not the text.
      this.usable = !this.split && !(this.first && bytes[0] === BOM_FIRST_BYTE);
      this.open = true;
    }
    this.first = false;
    this.split = bytes.byteLength > 0 && (bytes[bytes.byteLength - 1] ?? 0) >= 0x80;
    if (this.usable) {
      this.reads.push(bytes);
      this.text = this.text.length === 0 ? text : this.text + text;
    }
    this.match = null;
    if (pending.length > 0) {
      if (this.usable && !this.split && pending === this.text) this.match = joinBytes(this.reads);
      this.close();
    } else if (this.text.length > MAX_KEPT) {
      // An event this long is rare: it goes out as text rather than keep two copies of it.
      this.close();
      this.open = true;
      this.usable = false;
    }
  }

  /** Whether the last read is kept, waiting for the event it began to complete. */
  keeps(): boolean {
    return this.open && this.usable;
  }

  /** The bytes to send instead of the framed text, when they are the same; else null. */
  bytes(): Uint8Array | null {
    return this.match;
  }

  private close(): void {
    this.reads = [];
    this.text = "";
    this.open = false;
  }
}

/** UTF-8's byte-order mark starts with this byte; the decoder drops the mark. */
const BOM_FIRST_BYTE = 0xef;

/** Longest text kept while no event completes. */
const MAX_KEPT = 64 * 1024;
