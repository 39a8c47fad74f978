import pg from 'pg';

/**
 * The gateway's Postgres connection (node-postgres's Client, in its pipeline mode), made to spend as
 * few round trips and socket writes as the money rules allow. On this project's machine a message
 * between two processes costs more than most statements do, and every round trip inside a
 * transaction keeps the wallet row locked longer.
 *
 * - A statement marked PREPARED is sent as a named statement: parsed once per connection and run
 *   from a cached plan, instead of parsed, analysed and planned on every call (that was about 40% of
 *   Postgres's CPU on the wallet's path). Only for statements of a fixed text with explicit result
 *   columns: a prepared `select *` would fail once a migration adds a column.
 * - BEGIN, and a prepared read marked AHEAD (one whose rows nobody needs: the wallet's row lock),
 *   are answered at once and go out with the next statement when that is a prepared read too: one
 *   round trip for all. Postgres still runs them one after the other, each read with a snapshot
 *   taken when it starts. Their errors are that statement's; if the BEGIN failed, they ran on their
 *   own and, being reads, changed nothing. Before any other statement their own answers are
 *   awaited, so no write ever runs outside its transaction.
 * - Statements issued in the same turn of the event loop leave in one write: on a wallet
 *   operation's connection (onClient, alone or in a group), its last post, the webhook history row
 *   and the COMMIT sent right behind them (see Pipeline.handle) travel together. (A Kysely
 *   transaction would send a statement only once the one before it is answered.)
 */
export const PREPARED = '/* prepared */ ';
export const AHEAD = '/* prepared, ahead */ ';

/** One name per marked text, the same on every connection (each prepares it on first use). */
const statementNames = new Map<string, string>();
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) statementNames.set(text, (name = `croupier_${statementNames.size + 1}`));
  return name;
}

const READ = /^\s*select\b/i;
const answered = (command: string) => ({ command, rowCount: null, oid: 0, rows: [], fields: [] });

export class LedgerClient extends pg.Client {
  /** BEGIN and statements sent ahead, answered to the caller already, whose own answers the next statement waits for. */
  #ahead: Promise<unknown>[] = [];
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
    const mark = text.startsWith(PREPARED) ? PREPARED : text.startsWith(AHEAD) ? AHEAD : undefined;
    const config: pg.QueryConfig = mark && Array.isArray(values) ? { name: statementName(text), text, values } : { text, values };
    const read = mark !== undefined && READ.test(text.slice(mark.length));
    if (text === 'begin' || mark === AHEAD) {
      if (mark === AHEAD && !read) throw new Error('only a read can be sent ahead of its answer');
      const sent = super.query(config);
      sent.catch(() => {}); // reported with the statement that follows
      this.#ahead.push(sent);
      return Promise.resolve(answered(text === 'begin' ? 'BEGIN' : 'SELECT'));
    }
    if (this.#ahead.length === 0) return super.query(config);
    const ahead = this.#ahead;
    this.#ahead = [];
    if (read) return Promise.all([...ahead, super.query(config)]).then((results) => results.at(-1));
    return Promise.all(ahead).then(() => super.query(config));
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
