import { sql } from 'kysely';
import type { Db } from './database.ts';
import { LINE_TRANSITIONS } from './line-states.ts';

export interface Break {
  check: string;
  detail: string;
}

/**
 * Verifies the ledger invariants from the rows themselves, trusting neither code nor triggers:
 * run after any incident, and by the tests after every concurrency and fault scenario.
 */
export async function reconcile(db: Db): Promise<Break[]> {
  const breaks: Break[] = [];
  const add = (check: string, rows: Record<string, unknown>[], describe: (row: any) => string) => {
    for (const row of rows) breaks.push({ check, detail: describe(row) });
  };

  const balances = await sql<{ id: bigint; balance: bigint; computed: bigint }>`
    with flows as (
      select credit_account_id as account_id, sum(amount) as amount from transfers group by 1
      union all
      select debit_account_id, -sum(amount) from transfers group by 1
    )
    select a.id, a.balance, coalesce(sum(f.amount), 0)::bigint as computed
    from accounts a left join flows f on f.account_id = a.id
    group by a.id, a.balance
    having a.balance <> coalesce(sum(f.amount), 0)`.execute(db);
  add('balance = credits - debits', balances.rows, (r) => `account ${r.id}: balance ${r.balance}, transfers say ${r.computed}`);

  const sums = await sql<{ currency: string; total: bigint }>`
    select currency, sum(balance)::bigint as total from accounts group by currency having sum(balance) <> 0`.execute(db);
  add('balances sum to zero per currency', sums.rows, (r) => `${r.currency}: sum ${r.total}`);

  const negative = await sql<{ id: bigint; balance: bigint }>`
    select id, balance from accounts where kind = 'player' and balance < 0`.execute(db);
  add('no negative player wallet', negative.rows, (r) => `account ${r.id}: ${r.balance}`);

  const currency = await sql<{ id: bigint }>`
    select t.id from transfers t
    join accounts d on d.id = t.debit_account_id join accounts c on c.id = t.credit_account_id
    where d.currency <> t.currency or c.currency <> t.currency`.execute(db);
  add('transfer currency matches its accounts', currency.rows, (r) => `transfer ${r.id}`);

  // Every provider transaction that says it moved money has its own transfer, of its amount, in its direction.
  const applied = await sql<{ id: bigint }>`
    select p.id from provider_transactions p
    join accounts w on w.player_id = p.player_id and w.kind = 'player' and w.currency = p.currency
    left join transfers t on t.id = p.transfer_id
    where p.status = 'applied' and (t.id is null or t.currency <> p.currency
      or (p.kind in ('debit', 'credit') and t.amount <> p.amount)
      or (p.kind = 'debit' and (t.kind <> 'bet' or t.debit_account_id <> w.id))
      or (p.kind = 'credit' and (t.kind not in ('win', 'promo_win') or t.credit_account_id <> w.id))
      or (p.kind = 'adjust' and (t.kind <> 'adjustment' or w.id not in (t.debit_account_id, t.credit_account_id)))
      or (p.kind = 'refund' and (t.kind <> 'bet_refund' or t.credit_account_id <> w.id)))`.execute(db);
  add('applied provider transaction has its transfer', applied.rows, (r) => `provider transaction ${r.id}`);

  // A whole rollback of a bet refunds what its lines cancelled one by one did not already refund.
  const reversals = await sql<{ id: bigint }>`
    select r.id from rollbacks r
    join provider_transactions p on p.id = r.target_id
    left join transfers t on t.id = r.transfer_id
    where (p.status = 'applied') <> (t.id is not null)
       or (t.id is not null and (t.amount <> p.amount - coalesce((
             select sum(l.amount) from bet_lines l join line_cancels c on c.line_id = l.id
             where l.provider_transaction_id = p.id), 0)
           or t.kind <> case p.kind when 'debit' then 'bet_refund' else 'win_reversal' end))`.execute(db);
  add('rollback reverses exactly its target', reversals.rows, (r) => `rollback ${r.id}`);

  // A cancel of bet lines refunds exactly the lines it marks as refunded, each at most once.
  const lineRefunds = await sql<{ id: bigint }>`
    select p.id from provider_transactions p
    join transfers t on t.id = p.transfer_id
    where p.kind = 'refund' and t.amount <> coalesce((
      select sum(l.amount) from line_cancels c join bet_lines l on l.id = c.line_id where c.cancel_id = p.id), 0)`.execute(db);
  add('bet-line cancel refunds exactly its lines', lineRefunds.rows, (r) => `provider transaction ${r.id}`);

  const lineSums = await sql<{ id: bigint }>`
    select p.id from provider_transactions p
    where exists (select 1 from bet_lines l where l.provider_transaction_id = p.id)
      and p.amount <> (select sum(l.amount) from bet_lines l where l.provider_transaction_id = p.id)`.execute(db);
  add('bet lines sum to their bet', lineSums.rows, (r) => `provider transaction ${r.id}`);

  const rounds = await sql<{ id: bigint }>`
    select t.id from provider_transactions t join rounds r on r.id = t.round_id
    where t.status = 'applied' and (r.currency <> t.currency or r.player_id <> t.player_id or r.provider_id <> t.provider_id)`.execute(db);
  add('a round moves money for one player, provider and currency', rounds.rows, (r) => `provider transaction ${r.id}`);

  const orphans = await sql<{ id: bigint; kind: string }>`
    select t.id, t.kind from transfers t
    where (select count(*) from provider_transactions p where p.transfer_id = t.id)
        + (select count(*) from rollbacks r where r.transfer_id = t.id)
        + (select count(*) from cashier_operations c where c.transfer_id = t.id) <> 1`.execute(db);
  add('every transfer has exactly one cause', orphans.rows, (r) => `transfer ${r.id} (${r.kind})`);

  // The round rules (wallet-semantics.md, rules 10-14), from the rows.
  const payouts = await sql<{ id: bigint }>`
    select l.id from bet_lines l
    where (l.state = 'settled' and l.payout is not null and (l.payout <> l.amount + l.winloss or l.payout < 0))
       or (l.state <> 'settled' and (l.winloss is not null or l.payout is not null or l.settled_by is not null))`.execute(db);
  add("a settled line pays its stake plus its win/loss", payouts.rows, (r) => `bet line ${r.id}`);

  const cancelled = await sql<{ id: bigint; state: string }>`
    select l.id, l.state from bet_lines l
    where (l.state = 'cancelled') <> (exists (select 1 from line_cancels c where c.line_id = l.id)
      or exists (select 1 from rollbacks r where r.target_id = l.provider_transaction_id and r.transfer_id is not null))`.execute(db);
  add('a line is cancelled exactly when its stake was refunded (never settled and cancelled)', cancelled.rows, (r) => `bet line ${r.id} (${r.state})`);

  const settledLines = await sql<{ id: bigint }>`
    select l.id from bet_lines l
    join rounds r on r.id = l.round_id
    left join provider_transactions s on s.id = l.settled_by
    where l.state = 'settled' and (r.settled_by is null or s.id is null or s.round_id <> l.round_id or s.status <> 'applied' or s.kind not in ('credit', 'adjust'))`.execute(db);
  add('a settled line belongs to a settled round, settled by a payment of that round', settledLines.rows, (r) => `bet line ${r.id}`);

  const settledRounds = await sql<{ id: bigint }>`
    select r.id from rounds r join provider_transactions s on s.id = r.settled_by
    where s.round_id <> r.id or s.status <> 'applied' or s.kind not in ('credit', 'adjust')
       or not exists (select 1 from bet_lines l where l.round_id = r.id and l.state = 'settled')`.execute(db);
  add('a round is settled by an applied payment of its own', settledRounds.rows, (r) => `round ${r.id}`);

  const unsettled = await sql<{ what: string; id: bigint }>`
    select 'round' as what, r.id from rounds r where r.settled_by is not null and exists (select 1 from rollbacks b where b.target_id = r.settled_by and b.transfer_id is not null)
    union all
    select 'bet line', l.id from bet_lines l where l.state = 'settled' and exists (select 1 from rollbacks b where b.target_id = l.settled_by and b.transfer_id is not null)`.execute(db);
  add('nothing stays settled by a payment that was rolled back (its lines are owed again)', unsettled.rows, (r) => `${r.what} ${r.id}`);

  // What a settled round paid (its result and changes, less any rolled back) is what its lines say they paid.
  const roundPaid = await sql<{ id: bigint; paid: bigint; lines: bigint }>`
    with paid as (
      select t.round_id, sum(case when tr.credit_account_id = w.id then tr.amount else -tr.amount end)::bigint as paid
      from provider_transactions t
      join transfers tr on tr.id = t.transfer_id
      join accounts w on w.player_id = t.player_id and w.kind = 'player' and w.currency = t.currency
      where t.kind in ('credit', 'adjust') and t.status = 'applied' and t.round_id is not null
        and not exists (select 1 from rollbacks b where b.target_id = t.id)
      group by t.round_id
    ), lines as (
      select l.round_id, sum(l.payout)::bigint as paid from bet_lines l where l.state = 'settled' group by l.round_id
      having bool_and(l.payout is not null)
    )
    select r.id, coalesce(p.paid, 0) as paid, x.paid as lines from rounds r
    join lines x on x.round_id = r.id left join paid p on p.round_id = r.id
    where r.settled_by is not null and coalesce(p.paid, 0) <> x.paid`.execute(db);
  add('a settled round paid what its lines paid', roundPaid.rows, (r) => `round ${r.id}: paid ${r.paid}, its lines ${r.lines}`);

  const transitions = await sql<{ from_state: string; to_state: string; shipped: boolean }>`
    select coalesce(t.from_state, s.from_state) as from_state, coalesce(t.to_state, s.to_state) as to_state, t.from_state is null as shipped
    from line_transitions t
    full join (select * from unnest(${LINE_TRANSITIONS.map(([from]) => from)}::text[], ${LINE_TRANSITIONS.map(([, to]) => to)}::text[]) as s(from_state, to_state)) s
      on s.from_state = t.from_state and s.to_state = t.to_state
    where t.from_state is null or s.from_state is null`.execute(db);
  add('the line state machine in the database is the one the wallet runs', transitions.rows, (r) =>
    `${r.from_state} -> ${r.to_state} ${r.shipped ? 'missing from line_transitions' : 'in line_transitions, not in the wallet'}`,
  );

  const triggers = await sql<{ name: string }>`
    select expected.name from (values
      ('transfers_apply'), ('accounts_guard_balance'),
      ('transfers_insert_only'), ('provider_transactions_insert_only'), ('rollbacks_insert_only'), ('cashier_operations_insert_only'),
      ('bet_lines_guard'), ('line_cancels_insert_only'), ('player_sessions_insert_only'),
      ('rounds_guard'), ('rounds_no_truncate'), ('line_transitions_insert_only'), ('round_refusals_insert_only')
    ) as expected(name)
    left join pg_trigger t on t.tgname = expected.name and t.tgenabled = 'O'
    where t.oid is null`.execute(db);
  add('ledger guards are installed and enabled', triggers.rows, (r) => `trigger ${r.name} missing or disabled`);

  return breaks;
}
