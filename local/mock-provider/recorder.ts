/** The log of requests the mock received, for tests to inspect. */

/** One request as the mock received it, and how its answer ended. */
export interface RecordedRequest {
  /** 1, 2, 3... in arrival order since the server started. */
  id: number;
  method: string;
  path: string;
  query: Record<string, string>;
  /** Lower-cased header names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Parsed JSON, or the raw text when the body is not JSON, or null when empty. */
  body: unknown;
  /** The client closed the connection before the answer finished. */
  cancelled: boolean;
  /** The whole answer was written. */
  completed: boolean;
}

/** Keeps RecordedRequests in arrival order. */
export class Recorder {
  private nextId = 1;
  private entries: RecordedRequest[] = [];

  /** Adds a request and returns its live record (its flags change as the answer goes). */
  add(fields: Omit<RecordedRequest, "id" | "cancelled" | "completed">): RecordedRequest {
    const entry: RecordedRequest = { id: this.nextId++, ...fields, cancelled: false, completed: false };
    this.entries.push(entry);
    return entry;
  }

  /** Copies of the records so callers cannot change the log. */
  list(): RecordedRequest[] {
    return this.entries.map((e) => ({ ...e }));
  }

  /** Forgets every record (ids keep counting). */
  clear(): void {
    this.entries = [];
  }
}
