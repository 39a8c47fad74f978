import pg from 'pg';

/**
 * The gateway's Postgres connection (node-postgres's Client, in its pipeline mode), made to spend as
 * few round trips and socket writes as the money rules allow. On this project's machine a message
 * between two processes costs more than most statements do (a CPU profile of the gateway put 40% of
 * its time in socket writes), and every round trip inside a transaction keeps the wallet row locked.
 *
 * - A statement marked PREPARED is sent as a named statement: parsed once per connection and run
 *   from a cached plan, instead of parsed, analysed and planned on every call (that was about 40% of
 *   Postgres's CPU on the wallet's path). Only for statements of a fixed text with explicit result
 *   columns: a prepared `select *` would fail once a migration adds a column.
 * - BEGIN is answered at once and goes out with the statement that follows it, when that statement
 *   is a prepared read (the wallet's first statement, which locks the wallet row): one round trip
 *   for both. Should the BEGIN fail, the read ran on its own and changed nothing, and the BEGIN's
 *   error is the read's. Before any other statement the BEGIN's own answer is awaited, so no write
 *   ever runs outside its transaction.
 * - Statements issued in the same turn of the event loop leave in one write: the webhook history
 *   row and the COMMIT sent right behind it (see Pipeline.handle) travel together.
 */
export const PREPARED = '/* prepared */ ';

/** One name per marked text, the same on every connection (each prepares it on first use). */
const statementNames = new Map<string, string>();
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) statementNames.set(text, (name = `croupier_${statementNames.size + 1}`));
  return name;
}

const READ = /^select\b/i;
const BEGUN = { command: 'BEGIN', rowCount: null, oid: 0, rows: [], fields: [] };

export class LedgerClient extends pg.Client {
  /** The BEGIN sent and answered to the caller already, whose own answer the next statement waits for. */
  #begin: Promise<unknown> | undefined;
  #corked = false;

  constructor(config?: pg.ClientConfig) {
    super({ ...config, pipeline: true });
  }

  override query(...args: any[]): any {
    const [text, values, callback] = args;
    if (typeof text !== 'string' || typeof values === 'function' || callback !== undefined) {
      return (super.query as (...a: unknown[]) => unknown)(...args);
    }
    this.#coalesce();
    const prepared = text.startsWith(PREPARED) && Array.isArray(values);
    const config: pg.QueryConfig = prepared ? { name: statementName(text), text, values } : { text, values };
    if (text === 'begin') {
      const begin = super.query(config);
      begin.catch(() => {}); // reported with the statement that follows it
      this.#begin = begin;
      return Promise.resolve(BEGUN);
    }
    const begin = this.#begin;
    if (begin === undefined) return super.query(config);
    this.#begin = undefined;
    if (prepared && READ.test(text.slice(PREPARED.length).trimStart())) {
      return Promise.all([begin, super.query(config)]).then(([, result]) => result);
    }
    return begin.then(() => super.query(config));
  }

  /** Holds this turn's statements in the socket's buffer and writes them together at its end. */
  #coalesce(): void {
    if (this.#corked) return;
    const { stream } = this.connection;
    stream.cork();
    this.#corked = true;
    process.nextTick(() => {
      this.#corked = false;
      stream.uncork();
    });
  }
}
