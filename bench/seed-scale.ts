import type pg from 'pg';
import { withClient } from './database.ts';
import { say } from './stages.ts';
import { DEPOSIT_MINOR } from './world.ts';

/**
 * The scale preload (issue #5, item 4): `players` players with a USD, EUR and KRW wallet each, and
 * `transfers` transfers in all: a cashier deposit per wallet, the rest bet/win pairs of rounds of the
 * four provider instances (both dialects), with their provider transactions, rounds, rollback
 * markers, bet lines, line cancels and webhook history rows, so that the hot queries meet tables of
 * production size.
 *
 * Row by row through the transfer trigger this would take the better part of an hour (two UPDATEs
 * per transfer, thousands of them on each house row per statement), so it is a bulk load: explicit
 * ids computed from the row number, the session in `session_replication_role = replica` (which skips
 * triggers, the FK checks included, for this session only: the triggers stay installed and enabled),
 * the accounts written last with the balance their transfers add up to, and the secondary indexes
 * dropped for the load and rebuilt from their own definitions after it (a sorted build is several
 * times faster than 10M single inserts). The CHECK that no wallet is negative still applies, and
 * `croupier reconcile` at the end of the run proves the ledger whole.
 */

const CURRENCIES = ['USD', 'EUR', 'KRW'];
/** The instances of config/providers.json: three command-dialect brands, then the event dialect's. */
const PROVIDERS = ['scorpio-play', 'slotcity', 'meganodes', 'dowinn'];
/** Each provider's currency, as an index into CURRENCIES (dowinn is USD). */
const PROVIDER_CURRENCY = [0, 1, 2, 0];
const CHUNK = 500_000;
const LOADED = ['players', 'accounts', 'transfers', 'cashier_operations', 'rounds', 'provider_transactions', 'rollbacks', 'bet_lines', 'line_cancels', 'webhooks'];

// Account ids: cashier slots 1..96, game slots 101..228 (provider q, slot s: 101 + 32q + s), wallets from 1001 (player k's currency c at 1001 + 3k + c).
const CASHIER = (c: string, slot: string) => `(1 + (${c}) * 32 + (${slot}))`;
const GAME = (c: string, slot: string) => `(101 + (${c}) * 32 + (${slot}))`;
const WALLET = (k: string, c: string) => `(1001 + (${k}) * 3 + (${c}))`;

export interface ScaleShape {
  players: number;
  transfers: number;
  /** bet/win rounds: (transfers - 3 x players) / 2. */
  rounds: number;
}

export function scaleShape(players: number, transfers: number): ScaleShape {
  const rounds = Math.floor((transfers - 3 * players) / 2);
  if (rounds < 0) throw new Error(`${transfers} transfers cannot even fund ${players} players' 3 wallets`);
  return { players, transfers: 3 * players + 2 * rounds, rounds };
}

async function timed(client: pg.Client, what: string, text: string, values: unknown[] = []): Promise<void> {
  const t = performance.now();
  await client.query(text, values);
  say(`  ${what} (${Math.round((performance.now() - t) / 100) / 10}s)`);
}

/** Runs `text` for [lo, hi] ranges of `count` rows, $1 and $2 being the range's bounds. */
async function chunked(client: pg.Client, what: string, count: number, text: string): Promise<void> {
  const t = performance.now();
  for (let lo = 1; lo <= count; lo += CHUNK) await client.query(text, [lo, Math.min(count, lo + CHUNK - 1)]);
  say(`  ${what}: ${count} rows (${Math.round((performance.now() - t) / 100) / 10}s)`);
}

export async function seedScale(database: string, shape: ScaleShape): Promise<void> {
  const { players: P, rounds: R } = shape;
  const cur = `array['${CURRENCIES.join("', '")}']`;
  const prov = `array['${PROVIDERS.join("', '")}']`;
  await withClient(database, async (client) => {
    await client.query(`set session_replication_role = replica`);
    await client.query(`set maintenance_work_mem = '1GB'`);
    await client.query(`set work_mem = '512MB'`);
    const { rows: indexes } = await client.query<{ name: string; definition: string }>(
      `select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as definition
       from pg_index i join pg_class t on t.oid = i.indrelid
       where t.relname = any($1) and t.relnamespace = 'public'::regnamespace
         and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)`,
      [LOADED],
    );
    for (const index of indexes) await client.query(`drop index ${index.name}`);

    await chunked(client, 'players', P, `insert into players (id, code) overriding system value select n, 'p' || (n - 1) from generate_series($1::bigint, $2) n`);
    // Deposit of player k (0-based) in currency c: transfer 3k + c + 1, from the cashier slot of player id k + 1.
    await chunked(
      client,
      'deposit transfers (x3)',
      P,
      `insert into transfers (id, debit_account_id, credit_account_id, amount, currency, kind, created_at) overriding system value
       select 3 * (n - 1) + c + 1, ${CASHIER('c', 'n % 32')}, ${WALLET('n - 1', 'c')}, ${DEPOSIT_MINOR}, (${cur})[c + 1], 'deposit', now() - interval '60 days'
       from generate_series($1::bigint, $2) n, generate_series(0, 2) c`,
    );
    await chunked(
      client,
      'cashier operations (x3)',
      P,
      `insert into cashier_operations (reference, player_id, kind, currency, amount, transfer_id)
       select 'bench-seed:p' || (n - 1) || ':' || (${cur})[c + 1], n, 'deposit', (${cur})[c + 1], ${DEPOSIT_MINOR}, 3 * (n - 1) + c + 1
       from generate_series($1::bigint, $2) n, generate_series(0, 2) c`,
    );

    // Round r: player id ((r - 1) mod P) + 1, provider q = r mod 4 (its currency c); bet transfer
    // 3P + 2r - 1 by provider transaction 2r - 1, with its bet line for the event dialect. One round in
    // 20 is cancelled (the live mix cancels about 5%): its second transfer 3P + 2r is the bet's refund,
    // caused by a rollback marker (command dialect) or by a refund transaction 2r cancelling the bet
    // line (event dialect). The others are settled by a win, transaction 2r, of 0 for half of them.
    const round = `with g as (
        select r, (r - 1) % ${P} + 1 as player, q, (array[${PROVIDER_CURRENCY.join(', ')}])[q + 1] as c, q = 3 as event,
          (r % 1000 + 1) * 10 as bet, r % 80 in (0, 21, 42, 63) as cancelled,
          case when r % 80 in (0, 21, 42, 63) then (r % 1000 + 1) * 10 when r % 2 = 0 then 0 else (r * 7 % 2000) * 10 end as back,
          case when q = 3 then 'T' || r % 16 || ':seed-' || r else 'seed-' || r end as external,
          now() - make_interval(secs => (${R} - r) * (29 * 86400.0 / ${R})) as at
        from (select r, (r % 4)::int as q from generate_series($1::bigint, $2) r) n)`;
    await chunked(
      client,
      'rounds',
      R,
      // An event-dialect round its result settled says so (rules 10-14: the round model reconcile checks).
      `${round} insert into rounds (id, provider_id, external_id, player_id, currency, created_at, settled_by, settled_at) overriding system value
       select r, (${prov})[q + 1], external, player, (${cur})[c + 1], at,
         case when event and not cancelled then 2 * r end, case when event and not cancelled then at end from g`,
    );
    await chunked(
      client,
      'bet and win/refund transfers (x2)',
      R,
      `${round} insert into transfers (id, debit_account_id, credit_account_id, amount, currency, kind, created_at) overriding system value
       select ${3 * P} + 2 * r - 1, ${WALLET('player - 1', 'c')}, ${GAME('q', 'player % 32')}, bet, (${cur})[c + 1], 'bet', at from g
       union all
       select ${3 * P} + 2 * r, ${GAME('q', 'player % 32')}, ${WALLET('player - 1', 'c')}, back, (${cur})[c + 1],
         case when cancelled then 'bet_refund' else 'win' end, at from g`,
    );
    await chunked(
      client,
      'provider transactions (x2, less the rolled back)',
      R,
      `${round} insert into provider_transactions
         (id, provider_id, external_id, player_id, kind, currency, amount, round_id, status, transfer_id, created_at) overriding system value
       select 2 * r - 1, (${prov})[q + 1], 'seed-' || r || '-b', player, 'debit', (${cur})[c + 1], bet, r, 'applied', ${3 * P} + 2 * r - 1, at from g
       union all
       select 2 * r, (${prov})[q + 1], 'seed-' || r || case when cancelled then '-c' else '-w' end, player,
         case when cancelled then 'refund' else 'credit' end, (${cur})[c + 1], back, r, 'applied', ${3 * P} + 2 * r, at
       from g where not cancelled or event`,
    );
    await chunked(
      client,
      'rollback markers (command-dialect cancels)',
      R,
      `${round} insert into rollbacks (provider_id, target_external_id, player_id, target_id, transfer_id, created_at)
       select (${prov})[q + 1], 'seed-' || r || '-b', player, 2 * r - 1, ${3 * P} + 2 * r, at from g where cancelled and not event`,
    );
    await chunked(
      client,
      'bet lines and line cancels (event dialect)',
      R,
      `${round}, lines as (
         insert into bet_lines (id, provider_transaction_id, round_id, ref, amount, state, winloss, payout, settled_by) overriding system value
         select r, 2 * r - 1, r, '1', bet,
           case when cancelled then 'cancelled' else 'settled' end,
           case when cancelled then null else back - bet end,
           case when cancelled then null else back end,
           case when cancelled then null else 2 * r end
         from g where event)
       insert into line_cancels (provider_id, round_external_id, ref, player_id, line_id, cancel_id, created_at)
       select (${prov})[q + 1], external, '1', player, r, 2 * r, at from g where event and cancelled`,
    );
    // The history of those calls, within the 30 days of retention (older rows would be purged mid-run).
    await chunked(
      client,
      'webhook history (x2)',
      R,
      `${round}, calls as (
         select (${prov})[q + 1] as provider, 'p' || (player - 1) as code, 'seed-' || r || '-b' as tx, 'bet' as command, bet as amount, r, at from g
         union all
         select (${prov})[q + 1], 'p' || (player - 1), 'seed-' || r || case when not cancelled then '-w' when event then '-c' else '-b' end,
           case when cancelled then 'cancel' else 'win' end, back, r, at + interval '5 seconds' from g)
       insert into webhooks (capture_id, provider_id, received_at, source, headers, body, payload, player_code, transaction_id, outcome, answer, duration_ms)
       select gen_random_uuid(), provider, at, 'vendor', '{"content-type": "application/json", "callback-token": "[redacted]"}',
         convert_to(body, 'UTF8'), body::jsonb, code, tx, 'ok', '{"result":0,"status":"OK","data":{"balance":1000}}', 3
       from (select *, format('{"command":"%s","data":{"account":"%s","trans_id":"%s","round_id":"seed-%s","amount":%s},"timestamp":"%s"}',
               command, code, tx, r, amount, extract(epoch from at)::bigint) as body
             from calls) b`,
    );

    // Accounts last, each with the balance its transfers add up to (house accounts included: they go negative).
    const accounts = `with net as (
        select account_id, sum(amount)::bigint as balance from (
          select credit_account_id as account_id, amount from transfers
          union all
          select debit_account_id, -amount from transfers) m
        group by account_id)`;
    await timed(
      client,
      'accounts (house slots and 3 wallets per player), balances from their transfers',
      `${accounts} insert into accounts (id, kind, player_id, provider_id, currency, slot, balance) overriding system value
       select a.id, a.kind, a.player_id, a.provider_id, a.currency, a.slot, coalesce(net.balance, 0) from (
         select ${CASHIER('c', 's')} as id, 'cashier' as kind, null::bigint as player_id, null as provider_id, (${cur})[c + 1] as currency, s as slot
         from generate_series(0, 2) c, generate_series(0, 31) s
         union all
         select ${GAME('q', 's')}, 'game', null, (${prov})[q + 1], (${cur})[(array[${PROVIDER_CURRENCY.join(', ')}])[q + 1] + 1], s
         from generate_series(0, 3) q, generate_series(0, 31) s
         union all
         select ${WALLET('n - 1', 'c')}, 'player', n, null, (${cur})[c + 1], 0 from generate_series(1, ${P}) n, generate_series(0, 2) c) a
       left join net on net.account_id = a.id`,
    );
    // The identity columns carry on after the explicit ids.
    for (const table of ['players', 'accounts', 'transfers', 'rounds', 'provider_transactions', 'rollbacks', 'bet_lines', 'line_cancels']) {
      await client.query(`select setval(pg_get_serial_sequence('${table}', 'id'), (select max(id) from ${table}))`);
    }
    await client.query(`reset session_replication_role`);
    const t = performance.now();
    for (const index of indexes) await client.query(index.definition);
    say(`  ${indexes.length} secondary indexes rebuilt (${Math.round((performance.now() - t) / 100) / 10}s)`);
    await timed(client, 'vacuum analyze', 'vacuum analyze');
    // Marks the preload complete, for --reuse (a database comment: nothing in the schema changes).
    await client.query(`comment on database ${database} is '${JSON.stringify(shape)}'`);
  });
}

/** The shape of a completed preload of `database`, if there is one. */
export async function seededShape(database: string): Promise<ScaleShape | undefined> {
  try {
    return await withClient(database, async (client) => {
      const { rows } = await client.query<{ shape: string | null }>(`select shobj_description(oid, 'pg_database') as shape from pg_database where datname = $1`, [database]);
      return rows[0]?.shape ? (JSON.parse(rows[0].shape) as ScaleShape) : undefined;
    });
  } catch {
    return undefined; // no such database
  }
}
