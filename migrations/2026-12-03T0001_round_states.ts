import { sql, type Kysely } from 'kysely';
import { asCurrency, isCurrency } from '../src/money/currency.ts';
import { JsonNumber, parseJsonExact } from '../src/money/json.ts';
import { parseAmount } from '../src/money/minor.ts';

/**
 * Rounds pay only what they owe (wallet-semantics.md, rules 10-14). Until now a round was a name
 * shared by transactions; from here on it has a state the database keeps and guards:
 *
 * - every bet line (`bet_lines`) is open, settled or cancelled, and moves only along
 *   `line_transitions` (open -> settled, open -> cancelled, settled -> settled by a result change):
 *   a line is never both settled and cancelled, and its stake never changes. A bet that does not
 *   itemise its round (the command dialect's) is one line of its own, named by its transaction id;
 * - a settled line keeps the vendor's net win/loss and what it paid: payout = stake + winloss >= 0;
 * - a round is settled once (`rounds.settled_by`, the transaction that settled it) and no new bet
 *   line joins it afterwards;
 * - a win the vendor pays without a stake (bonus call, free bet, promotion) is a transfer of its own
 *   kind, `promo_win`, so reports tell it from a game win;
 * - `round_refusals` is the round's own record of every message refused under the round rules, with
 *   what the vendor claimed.
 *
 * Rounds already in the ledger get their state from their history: lines refunded by a line cancel
 * or a whole rollback are cancelled; the lines of a round that a result paid are settled, with their
 * win/loss where the history tells it (a one-line round: what the round paid less its stake; several
 * lines: the vendor's own per-line figures in the webhook history, used only when they add up to what
 * the round paid), and unknown (null) otherwise.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const run = (statement: ReturnType<typeof sql>) => statement.execute(db);

  await run(sql`create table line_transitions (
    from_state text not null,
    to_state text not null,
    primary key (from_state, to_state)
  )`);
  await run(sql`insert into line_transitions (from_state, to_state) values ('open', 'settled'), ('open', 'cancelled'), ('settled', 'settled')`);

  await run(sql`alter table transfers drop constraint transfers_kind_check`);
  await run(sql`alter table transfers add constraint transfers_kind_check
    check (kind in ('bet', 'win', 'promo_win', 'bet_refund', 'win_reversal', 'adjustment', 'deposit', 'withdrawal'))`);

  await run(sql`alter table rounds add column settled_by bigint references provider_transactions (id)`);
  await run(sql`alter table rounds add column settled_at timestamptz`);
  await run(sql`alter table rounds add constraint round_settlement check ((settled_by is null) = (settled_at is null))`);

  await run(sql`alter table bet_lines add column state text not null default 'open'`);
  await run(sql`alter table bet_lines add column winloss bigint`);
  await run(sql`alter table bet_lines add column payout bigint`);
  await run(sql`alter table bet_lines add column settled_by bigint references provider_transactions (id)`);
  await run(sql`alter table bet_lines add constraint bet_line_state check (state in ('open', 'settled', 'cancelled'))`);
  await run(sql`alter table bet_lines add constraint bet_line_settlement check (
    (state = 'settled') = (settled_by is not null)
    and (state = 'settled' or (winloss is null and payout is null))
    and (winloss is null) = (payout is null)
    and (payout is null or (payout = amount + winloss and payout >= 0)))`);
  await run(sql`create index bet_lines_settled_by on bet_lines (settled_by) where settled_by is not null`);

  await run(sql`create table round_refusals (
    id bigint generated always as identity primary key,
    provider_id text not null,
    player_id bigint not null references players (id),
    round_external_id text not null,
    round_id bigint references rounds (id),
    external_id text not null,
    operation text not null,
    reason text not null,
    detail text not null,
    claim jsonb not null,
    created_at timestamptz not null default now(),
    constraint round_refusal_unique unique (provider_id, external_id, reason)
  )`);
  await run(sql`create index round_refusals_round on round_refusals (provider_id, player_id, round_external_id)`);

  // The history, before any guard is installed.
  await run(sql`drop trigger bet_lines_insert_only on bet_lines`);
  // A round that took itemised bets and was paid a result (the one kind of credit such rounds got) is settled.
  await run(sql`update rounds r set settled_by = s.id, settled_at = s.created_at
    from (select distinct on (t.round_id) t.round_id, t.id, t.created_at from provider_transactions t
          where t.kind = 'credit' and t.status = 'applied' and t.round_id is not null
            and not exists (select 1 from rollbacks b where b.target_id = t.id)
            and exists (select 1 from bet_lines l where l.round_id = t.round_id)
          order by t.round_id, t.id) s
    where r.id = s.round_id`);
  // A bet that did not itemise its round is one line of its own.
  await run(sql`insert into bet_lines (provider_transaction_id, round_id, ref, amount)
    select t.id, t.round_id, t.external_id, t.amount from provider_transactions t
    where t.kind = 'debit' and t.status = 'applied' and t.round_id is not null
      and not exists (select 1 from bet_lines l where l.provider_transaction_id = t.id)
    order by t.id`);
  await run(sql`update bet_lines l set state = 'cancelled'
    where exists (select 1 from line_cancels c where c.line_id = l.id)
       or exists (select 1 from rollbacks b where b.target_id = l.provider_transaction_id)`);
  // Settled by the round's latest payment (its result, or the last change of it).
  await run(sql`with paid as (
      select t.round_id, max(t.id) as last,
        sum(case when tr.credit_account_id = w.id then tr.amount else -tr.amount end)::bigint as net
      from provider_transactions t
      join transfers tr on tr.id = t.transfer_id
      join accounts w on w.player_id = t.player_id and w.kind = 'player' and w.currency = t.currency
      join rounds r on r.id = t.round_id and r.settled_by is not null
      where t.kind in ('credit', 'adjust') and t.status = 'applied'
        and not exists (select 1 from rollbacks b where b.target_id = t.id)
      group by t.round_id
    ), single as (
      select l.round_id from bet_lines l where l.state = 'open' group by l.round_id having count(*) = 1
    )
    update bet_lines l set state = 'settled', settled_by = paid.last,
      winloss = case when single.round_id is not null and paid.net >= 0 then paid.net - l.amount end,
      payout = case when single.round_id is not null and paid.net >= 0 then paid.net end
    from paid left join single on single.round_id = paid.round_id
    where l.round_id = paid.round_id and l.state = 'open'`);
  await recoverLineResults(db);

  await run(sql`create function ledger_guard_bet_line() returns trigger language plpgsql as $$
  begin
    if tg_op = 'DELETE' then
      raise exception 'bet_lines rows are never deleted' using errcode = 'integrity_constraint_violation';
    end if;
    if tg_op = 'INSERT' then
      if new.state <> 'open' then
        raise exception 'a bet line is placed open, not %', new.state using errcode = 'integrity_constraint_violation';
      end if;
      if exists (select 1 from rounds r where r.id = new.round_id and r.settled_by is not null) then
        raise exception 'round % is settled: no bet joins it', new.round_id using errcode = 'integrity_constraint_violation';
      end if;
      return new;
    end if;
    if new.id <> old.id or new.provider_transaction_id <> old.provider_transaction_id or new.round_id <> old.round_id
       or new.ref <> old.ref or new.amount <> old.amount then
      raise exception 'bet line % keeps its round, name and stake', old.id using errcode = 'integrity_constraint_violation';
    end if;
    if not exists (select 1 from line_transitions t where t.from_state = old.state and t.to_state = new.state) then
      raise exception 'bet line % cannot go from % to %', old.id, old.state, new.state using errcode = 'integrity_constraint_violation';
    end if;
    return new;
  end $$`);
  await run(sql`create trigger bet_lines_guard before insert or update or delete on bet_lines for each row execute function ledger_guard_bet_line()`);

  await run(sql`create function ledger_guard_round() returns trigger language plpgsql as $$
  begin
    if tg_op = 'DELETE' then
      raise exception 'rounds are never deleted' using errcode = 'integrity_constraint_violation';
    end if;
    if new.id <> old.id or new.provider_id <> old.provider_id or new.external_id <> old.external_id
       or new.player_id <> old.player_id or new.currency <> old.currency then
      raise exception 'round % keeps its identity', old.id using errcode = 'integrity_constraint_violation';
    end if;
    if old.settled_by is not null and (new.settled_by is distinct from old.settled_by or new.settled_at is distinct from old.settled_at) then
      raise exception 'round % is settled once', old.id using errcode = 'integrity_constraint_violation';
    end if;
    return new;
  end $$`);
  await run(sql`create trigger rounds_guard before update or delete on rounds for each row execute function ledger_guard_round()`);

  for (const table of ['rounds', 'line_transitions', 'round_refusals']) {
    await run(sql`create trigger ${sql.raw(`${table}_no_truncate`)} before truncate on ${sql.table(table)} for each statement execute function ledger_refuse_change()`);
  }
  for (const table of ['line_transitions', 'round_refusals']) {
    await run(sql`create trigger ${sql.raw(`${table}_insert_only`)} before update or delete on ${sql.table(table)} for each row execute function ledger_refuse_change()`);
  }
}

/**
 * Per-line win/loss of rounds settled with several lines, from the vendor's own figures in the
 * webhook history (the payload of the round's latest payment): kept only when every settled line is
 * named once with its stake and the lines add up to what the round paid.
 */
async function recoverLineResults(db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ round_id: bigint; currency: string; results: string | null; lines: { id: string; ref: string; amount: string }[]; net: string }>`
    with open_rounds as (
      select l.round_id, l.settled_by, json_agg(json_build_object('id', l.id::text, 'ref', l.ref, 'amount', l.amount::text)) as lines
      from bet_lines l where l.state = 'settled' and l.winloss is null group by l.round_id, l.settled_by
    )
    select o.round_id, r.currency, (w.payload -> 'data' -> 'bet_results')::text as results, o.lines,
      (select coalesce(sum(case when tr.credit_account_id = a.id then tr.amount else -tr.amount end), 0)::text
         from provider_transactions t join transfers tr on tr.id = t.transfer_id
         join accounts a on a.player_id = t.player_id and a.kind = 'player' and a.currency = t.currency
         where t.round_id = o.round_id and t.kind in ('credit', 'adjust') and t.status = 'applied'
           and not exists (select 1 from rollbacks b where b.target_id = t.id)) as net
    from open_rounds o
    join rounds r on r.id = o.round_id
    join provider_transactions s on s.id = o.settled_by
    join lateral (
      select w.payload from webhooks w
      where w.provider_id = s.provider_id and w.transaction_id = s.external_id and w.outcome = 'ok' and w.payload is not null
      order by w.id desc limit 1
    ) w on true`.execute(db);
  for (const row of rows) {
    const currency = row.currency.trim();
    if (!isCurrency(currency)) continue;
    // Read digit for digit: a float would not give back the vendor's decimals.
    const results: unknown = row.results === null ? null : parseJsonExact(row.results);
    if (!Array.isArray(results)) continue;
    const winloss = new Map<string, bigint>();
    for (const item of results as { bet_index?: unknown; winloss?: unknown }[]) {
      const text = item.winloss instanceof JsonNumber ? item.winloss.source : String(item.winloss ?? '');
      const negative = text.startsWith('-');
      const parsed = parseAmount(negative ? text.slice(1) : text, asCurrency(currency));
      if (!parsed.ok || item.bet_index === undefined) continue;
      const index = item.bet_index instanceof JsonNumber ? item.bet_index.source : String(item.bet_index);
      winloss.set(index, negative ? -parsed.value : parsed.value);
    }
    const lines = row.lines.map((l) => ({ id: BigInt(l.id), amount: BigInt(l.amount), winloss: winloss.get(l.ref) }));
    if (lines.some((l) => l.winloss === undefined || l.amount + l.winloss < 0n)) continue;
    if (lines.reduce((sum, l) => sum + l.amount + l.winloss!, 0n) !== BigInt(row.net)) continue;
    for (const l of lines) {
      await sql`update bet_lines set winloss = ${l.winloss!}, payout = ${l.amount + l.winloss!} where id = ${l.id}`.execute(db);
    }
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['rounds', 'line_transitions', 'round_refusals']) await sql`drop trigger if exists ${sql.raw(`${table}_no_truncate`)} on ${sql.table(table)}`.execute(db);
  await sql`drop trigger if exists rounds_guard on rounds`.execute(db);
  await sql`drop function if exists ledger_guard_round()`.execute(db);
  await sql`drop trigger if exists bet_lines_guard on bet_lines`.execute(db);
  await sql`drop function if exists ledger_guard_bet_line()`.execute(db);
  await sql`drop table if exists round_refusals`.execute(db);
  await sql`delete from bet_lines l using provider_transactions t where t.id = l.provider_transaction_id and l.ref = t.external_id
    and not exists (select 1 from line_cancels c where c.line_id = l.id)`.execute(db);
  await sql`alter table bet_lines drop constraint bet_line_settlement, drop constraint bet_line_state,
    drop column settled_by, drop column payout, drop column winloss, drop column state`.execute(db);
  await sql`alter table rounds drop constraint round_settlement, drop column settled_at, drop column settled_by`.execute(db);
  await sql`drop table if exists line_transitions`.execute(db);
  await sql`alter table transfers drop constraint transfers_kind_check`.execute(db);
  await sql`alter table transfers add constraint transfers_kind_check
    check (kind in ('bet', 'win', 'bet_refund', 'win_reversal', 'adjustment', 'deposit', 'withdrawal'))`.execute(db);
  await sql`create trigger bet_lines_insert_only before update or delete on bet_lines for each row execute function ledger_refuse_change()`.execute(db);
}
