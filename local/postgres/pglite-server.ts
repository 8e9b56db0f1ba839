import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export interface PgliteServer {
  host: string;
  port: number;
  close(): Promise<void>;
}

/** Starts PGlite (in memory, or in `dataDir`) and serves the Postgres wire protocol on 127.0.0.1. */
export async function startPgliteServer(opts: { dataDir?: string } = {}): Promise<PgliteServer> {
  const db = await PGlite.create(opts.dataDir ? { dataDir: opts.dataDir } : {});
  pinExtendedQuerySequences(db);
  const host = "127.0.0.1";
  // Port 0: the OS picks a free port at listen time, so there is no race with other processes.
  // The socket server defaults to one connection; pools, migrations and WebSocket clients need more.
  const server = new PGLiteSocketServer({ db, host, port: 0, maxConnections: 100 });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  const port = Number(server.getServerConn().split(":").pop());
  let closed: Promise<void> | undefined;
  return {
    host,
    port,
    close() {
      closed ??= server.stop().then(() => db.close());
      return closed;
    },
  };
}

/** Extended-protocol messages that open or continue a sequence ending at Sync: P, B, D, E, C, H. */
const SEQUENCE_MESSAGES = new Set([0x50, 0x42, 0x44, 0x45, 0x43, 0x48]);
/** Messages that end a sequence: Sync, simple Query, Terminate. */
const SEQUENCE_ENDS = new Set([0x53, 0x51, 0x58]);

/**
 * PGlite has ONE session shared by every socket connection. pglite-socket 0.2.17 queues single
 * protocol messages and keeps serving the same connection only inside BEGIN...COMMIT, so two
 * connections' Parse/Bind/Execute/Sync sequences interleave and clobber each other's unnamed
 * statement and portal ("portal \"\" does not exist"). Report an open sequence as "in transaction"
 * so the queue keeps serving that connection until its Sync.
 */
function pinExtendedQuerySequences(db: PGlite): void {
  let sequenceOpen = false;
  const inTransactionBlock = db.isInTransaction.bind(db);
  const execRawStream = db.execProtocolRawStream.bind(db);
  db.isInTransaction = () => sequenceOpen || inTransactionBlock();
  db.execProtocolRawStream = (message, options) => {
    const type = message[0] ?? 0;
    if (SEQUENCE_MESSAGES.has(type)) sequenceOpen = true;
    else if (SEQUENCE_ENDS.has(type)) sequenceOpen = false;
    return execRawStream(message, options);
  };
}
