import pg from 'pg';
import { CURRENCIES, DEPOSIT_MINOR, SERVER_URL } from './world.ts';

export async function withClient<T>(database: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: `${SERVER_URL}/${database}`, application_name: 'croupier-bench' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Drops (cutting its connections) and creates one of the bench's own databases; never any other. */
export async function recreateDatabase(name: string): Promise<void> {
  if (!/^croupier_bench\w*$/.test(name)) throw new Error(`the bench only ever drops its own databases, not ${name}`);
  await withClient('postgres', async (client) => {
    await client.query(`drop database if exists "${name}" with (force)`);
    await client.query(`create database "${name}"`);
  });
}

/**
 * Before a measured run: what autovacuum does on a production server, done here because it may be off
 * (it is on the CI machines): the planner's statistics follow the ledger's growth, and the ANALYZE
 * invalidates the gateway's cached plans, which would otherwise keep the plan made while a table was
 * nearly empty (docs/performance.md). pgbench vacuums its own tables before each of its runs too.
 * Then a checkpoint now rather than in the middle of the window: runs compare like with like.
 */
export async function settle(database: string): Promise<void> {
  await withClient(database, async (client) => {
    await client.query('vacuum (analyze)');
    await client.query('checkpoint');
  });
}

export async function dropDatabase(name: string): Promise<void> {
  if (!/^croupier_bench\w*$/.test(name)) throw new Error(`the bench only ever drops its own databases, not ${name}`);
  await withClient('postgres', (client) => client.query(`drop database if exists "${name}" with (force)`));
}

/**
 * Preloads players p0..p{count-1}, each with a USD, EUR and KRW wallet funded by a cashier deposit,
 * set-based and through the ledger's own rules: wallets open at 0 (the guard trigger insists), the
 * money arrives as `deposit` transfers from the cashier slot of the player (id mod 32, as the gateway's
 * HouseAccounts picks it), applied by the transfer trigger, each with its cashier_operations row so
 * that reconcile finds exactly one cause per transfer. Chunked, so that no statement piles thousands
 * of updates onto one cashier row.
 */
export async function preloadPlayers(database: string, count: number, chunk = 2_000): Promise<void> {
  await withClient(database, async (client) => {
    await client.query(`insert into players (code) select 'p' || k from generate_series(0, $1::int - 1) k`, [count]);
    await client.query(
      // One currency after another, players in id order: a currency's accounts then sit at one offset
      // from their players' ids, which the ceiling replay names them by. Without the order the planner
      // may loop over players outside currencies and interleave them.
      `insert into accounts (kind, player_id, currency)
       select 'player', p.id, c.currency from players p cross join unnest($1::text[]) with ordinality c(currency, n)
       order by c.n, p.id`,
      [CURRENCIES],
    );
    await client.query(
      `insert into accounts (kind, currency, slot) select 'cashier', c, s from unnest($1::text[]) c cross join generate_series(0, 31) s
       on conflict do nothing`,
      [CURRENCIES],
    );
    const { rows } = await client.query<{ lo: string; hi: string }>(`select min(id) as lo, max(id) as hi from players`);
    const lo = Number(rows[0]!.lo);
    const hi = Number(rows[0]!.hi);
    for (let from = lo; from <= hi; from += chunk) {
      await client.query(
        `with w as (
           select a.id, a.player_id, a.currency, p.code from accounts a join players p on p.id = a.player_id
           where a.kind = 'player' and a.player_id between $1 and $2
         ), t as (
           insert into transfers (debit_account_id, credit_account_id, amount, currency, kind)
           select c.id, w.id, ${DEPOSIT_MINOR}, w.currency, 'deposit'
           from w join accounts c on c.kind = 'cashier' and c.currency = w.currency and c.slot = w.player_id % 32
           returning id, credit_account_id, amount, currency
         )
         insert into cashier_operations (reference, player_id, kind, currency, amount, transfer_id)
         select 'bench-seed:' || w.code || ':' || t.currency, w.player_id, 'deposit', t.currency, t.amount, t.id
         from t join w on w.id = t.credit_account_id`,
        [from, Math.min(hi, from + chunk - 1)],
      );
    }
    await client.query('vacuum analyze');
  });
}
