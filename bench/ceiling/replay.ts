import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Currency } from '../world.ts';

/**
 * pgbench scripts for `npm run bench:ceiling`: a command-dialect round (a bet, then its win) as
 * Postgres sees it from the gateway, with no gateway. Each script run is one round: two money calls,
 * each its own transaction, pipelined as the wallet pipelines an operation alone (src/wallet/wallet.ts
 * `#inOne`): BEGIN, the wallet lock and the snapshot in one round trip; the post, the history row and
 * the COMMIT in a second.
 *
 * `statements` are the wallet's own statements (src/wallet/records.ts: `snapshot`, `post`), written
 * out with pgbench variables for their parameters; the history row is a command-dialect call's as the
 * gateway keeps it (src/webhooks/history.ts). test/bench/ceiling.test.ts holds each script to writing
 * the rows the wallet writes for the same round, table by table, and to a ledger that reconciles.
 *
 * `function` and `function, one trip` are the first lever, measured rather than estimated:
 * the money rules of a bet and a win as one SQL function each (bench/ceiling/functions.sql, the bench's
 * rules only: no itemised lines, no precedence, no rule 14 record). `function` writes the history row
 * after the answer, in a second round trip, as the gateway must (the row holds the answer); `function,
 * one trip` sends it with the call, an upper bound that only an answer made in SQL would reach.
 */

export const VARIANTS = ['statements', 'function', 'function, one trip'] as const;
export type Variant = (typeof VARIANTS)[number];

export interface ReplayProvider {
  id: string;
  currency: Currency;
  /** A player's account in `currency` has the id of the player plus this (the bench's preload makes them so). */
  accountOffset: number;
}

/** SQL text of a string. */
const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;

/**
 * Per round: a random player of p0..p{players-1}; ids unique in the run (`base`, set per run, the
 * client and its own count); a stake and a win. `n` and `base` are defined on pgbench's command line.
 */
function variables(players: number, p: ReplayProvider): string {
  return [
    `\\set pid random(0, ${players - 1})`,
    '\\set pl :pid + 1',
    `\\set acc :pl + ${p.accountOffset}`,
    '\\set slot :pl % 32',
    '\\set n :n + 1',
    '\\set round :base + :client_id * 1000000 + :n',
    '\\set wtx :round + 500000000',
    '\\set amount random(100, 10000)',
    '\\set win random(1, 20000)',
  ].join('\n');
}

/** A command-dialect call as the history keeps it: its headers, body, decoded payload, operation and answer. */
function history(p: ReplayProvider, command: 'bet' | 'win', tx: string): string {
  const data = { account: 'p0', trans_id: 0, round_id: '0', call_id: 0, provider_id: 'bench', game_code: 'bench-slot', game_name: 'Bench Slot', game_type: 'slot', amount: 91.36, type: command === 'bet' ? 1 : 2 };
  const body = JSON.stringify({ command, data, timestamp: '1796428314', check: '21,22,41,31' });
  const headers = { host: '127.0.0.1:20000', accept: 'application/json', connection: 'keep-alive', 'content-type': 'application/json', 'callback-token': '[redacted]', 'content-length': String(body.length) };
  const operation = { op: command === 'bet' ? 'debit' : 'credit', game: 'bench-slot', txId: '0', amount: '9136', player: 'p0', details: detailsOf(command), roundId: '0', currency: p.currency, provider: p.id, precedence: ['player', 'active', 'unique', 'funds'] };
  const answer = JSON.stringify({ result: 0, status: 'OK', data: { balance: 99999885.7 } });
  return `insert into webhooks (capture_id, provider_id, received_at, source, headers, body, path, plaintext, payload, operation, player_code, transaction_id, outcome, detail, answer, duration_ms, replay_of)
values (gen_random_uuid(), ${lit(p.id)}, now(), 'vendor', ${lit(JSON.stringify(headers))}::jsonb, convert_to(${lit(body)}, 'UTF8'), '', false, ${lit(body)}::jsonb, ${lit(JSON.stringify(operation))}::jsonb, 'p' || :pid, ${tx}, 'ok', null, ${lit(answer)}, 2, null);`;
}

const detailsOf = (command: 'bet' | 'win') => ({ type: command === 'bet' ? '1' : '2', call_id: '0', game_code: 'bench-slot', game_name: 'Bench Slot', game_type: 'slot', provider_id: 'bench' });

/** records.ts `snapshot`: the wallet lock, then the read (a win asks whether its round holds a stake). */
function snapshot(p: ReplayProvider, tx: string, staked: boolean): string {
  const cur = lit(p.currency);
  const prov = lit(p.id);
  const stakedColumn = staked ? `exists (select 1 from bet_lines l where l.round_id = r.id and l.state <> 'cancelled')` : 'null::boolean';
  return `select a.id from players p join accounts a on a.player_id = p.id and a.kind = 'player' and a.currency = ${cur} where p.code = 'p' || :pid for update of a;
select p.id as player_id, p.status, a.id as account_id, a.balance, t.id as tx_id, t.player_id as tx_player_id, t.kind as tx_kind, t.currency as tx_currency, t.amount as tx_amount, t.status as tx_status, t.refusal as tx_refusal, tr.external_id as tx_round, t.details -> 'claim' as tx_claim, m.id as marker_id, m.target_id as marker_target_id, m.player_id as marker_player_id, r.id as round_id, r.currency as round_currency, r.settled_by, ${stakedColumn} as round_staked, null::json as round_lines, null::json as settled from players p join accounts a on a.player_id = p.id and a.kind = 'player' and a.currency = ${cur} left join provider_transactions t on t.provider_id = ${prov} and t.external_id = ${tx} left join rounds tr on tr.id = t.round_id left join rollbacks m on m.provider_id = ${prov} and m.target_external_id = ${tx} left join lateral (select r.id, r.currency, r.settled_by from rounds r where r.provider_id = ${prov} and r.player_id = p.id and r.external_id = :round::text limit 1) r on true where p.code = 'p' || :pid;`;
}

/** records.ts `post` of a bet (a new round, its transfer, the transaction, its one line) and of a win (transfer, transaction). */
function post(p: ReplayProvider, command: 'bet' | 'win'): string {
  const cur = lit(p.currency);
  const prov = lit(p.id);
  const game = `(select id from accounts where kind = 'game' and provider_id = ${prov} and currency = ${cur} and slot = :slot)`;
  const details = `${lit(JSON.stringify(detailsOf(command)))}::jsonb`;
  if (command === 'bet') {
    return `with new_round as (insert into rounds (provider_id, external_id, player_id, currency) select ${prov}, :round::text, :pl, ${cur} where true returning id), moved as (insert into transfers (debit_account_id, credit_account_id, amount, currency, kind) select :acc::bigint, ${game}::bigint, :amount::bigint, ${cur}, 'bet' where true returning id), posted as (insert into provider_transactions (provider_id, external_id, player_id, kind, currency, amount, round_id, details, game, status, refusal, transfer_id) values (${prov}, :round::text, :pl, 'debit', ${cur}, :amount, (select id from new_round), ${details}, 'bench-slot'::text, 'applied', null, (select id from moved)) returning id, round_id), placed as (insert into bet_lines (provider_transaction_id, round_id, ref, amount) select p.id, p.round_id, l.ref, l.amount from posted p, unnest(array[:round::text]::text[], array[:amount::bigint]::bigint[]) with ordinality as l(ref, amount, n) where p.round_id is not null order by l.n) select id, round_id from posted;`;
  }
  return `with new_round as (insert into rounds (provider_id, external_id, player_id, currency) select ${prov}, :round::text, :pl, ${cur} where false returning id), moved as (insert into transfers (debit_account_id, credit_account_id, amount, currency, kind) select ${game}::bigint, :acc::bigint, :win::bigint, ${cur}, 'win' where true returning id), posted as (insert into provider_transactions (provider_id, external_id, player_id, kind, currency, amount, round_id, details, game, status, refusal, transfer_id) values (${prov}, :wtx::text, :pl, 'credit', ${cur}, :win, (select id from rounds where provider_id = ${prov} and player_id = :pl and external_id = :round::text), ${details}, 'bench-slot'::text, 'applied', null, (select id from moved)) returning id, round_id) select id, round_id from posted;`;
}

/** bench/ceiling/functions.sql's call for a bet or a win. */
function call(p: ReplayProvider, command: 'bet' | 'win'): string {
  const [fn, tx, amount] = command === 'bet' ? ['ceiling_bet', ':round::text', ':amount'] : ['ceiling_win', ':wtx::text', ':win'];
  return `select * from ${fn}(${lit(p.id)}, 'p' || :pid, ${lit(p.currency)}, ${tx}, :round::text, ${amount}::bigint, ${lit(JSON.stringify(detailsOf(command)))}::jsonb, 'bench-slot');`;
}

const pipeline = (...statements: string[]) => ['\\startpipeline', ...statements, '\\endpipeline'].join('\n');

/** The script of one variant for one provider's rounds. */
export function replayScript(variant: Variant, p: ReplayProvider, players: number): string {
  const calls = (['bet', 'win'] as const).map((command) => {
    const tx = command === 'bet' ? ':round::text' : ':wtx::text';
    switch (variant) {
      case 'statements':
        return [pipeline('BEGIN;', snapshot(p, tx, command === 'win')), pipeline(post(p, command), history(p, command, tx), 'COMMIT;')];
      case 'function':
        return [pipeline('BEGIN;', call(p, command)), pipeline(history(p, command, tx), 'COMMIT;')];
      case 'function, one trip':
        return [pipeline('BEGIN;', call(p, command), history(p, command, tx), 'COMMIT;')];
    }
  });
  return [variables(players, p), ...calls.flat()].join('\n') + '\n';
}

/** Writes `variant`'s script for each provider into `dir`; their paths, in the providers' order. */
export async function writeReplay(dir: string, variant: Variant, providers: readonly ReplayProvider[], players: number): Promise<string[]> {
  const files = providers.map((_, i) => path.join(dir, `${VARIANTS.indexOf(variant)}-${i}.sql`));
  await Promise.all(providers.map((p, i) => writeFile(files[i]!, replayScript(variant, p, players))));
  return files;
}

/**
 * pgbench's arguments for the scripts `files`, one picked at random for each round, with round ids
 * from `base` up (each run needs a base above every earlier run's ids: rounds are unique in the ledger).
 */
export const replayArguments = (files: readonly string[], base: bigint): string[] => [...files.flatMap((f) => ['-f', `${f}@1`]), '-D', 'n=0', '-D', `base=${base}`];
