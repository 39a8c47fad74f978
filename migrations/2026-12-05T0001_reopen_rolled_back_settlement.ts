import { sql, type Kysely } from 'kysely';

/**
 * A round whose settling payment is rolled back is open again (rule 12 read with rule 13): a Hub88
 * closing win (`round_closed`) that the supplier rolls back settled the round's open lines, and until
 * now they stayed settled, so the rollbacks of the round's bets that follow (a voided round) were
 * refused and the stakes stayed with the house. In the vendor's own order the player gets them back.
 *
 * The guards still refuse every other reopening: a line goes from settled back to open, and a round
 * loses its `settled_by`, only when the payment that settled it has been rolled back with money moved
 * (a row of `rollbacks` naming it, with its transfer). A result or a result change is never rolled
 * back (the wallet refuses it), so in practice only a closing win reopens its round.
 *
 * Rounds closed by a win that was rolled back before this migration are opened here, as the wallet
 * now does. A rollback of one of their bets refused back then stays refused: the vendor's
 * reconciliation (docs/back-office.md) lists such a stake as a cancel the casino never applied.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const run = (statement: ReturnType<typeof sql>) => statement.execute(db);
  await run(sql`insert into line_transitions (from_state, to_state) values ('settled', 'open')`);
  await run(sql`create or replace function ledger_guard_bet_line() returns trigger language plpgsql as $$
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
    if old.state = 'settled' and new.state = 'open'
       and not exists (select 1 from rollbacks b where b.target_id = old.settled_by and b.transfer_id is not null) then
      raise exception 'bet line % reopens only when the payment that settled it is rolled back', old.id using errcode = 'integrity_constraint_violation';
    end if;
    return new;
  end $$`);
  await run(sql`create or replace function ledger_guard_round() returns trigger language plpgsql as $$
  begin
    if tg_op = 'DELETE' then
      raise exception 'rounds are never deleted' using errcode = 'integrity_constraint_violation';
    end if;
    if new.id <> old.id or new.provider_id <> old.provider_id or new.external_id <> old.external_id
       or new.player_id <> old.player_id or new.currency <> old.currency then
      raise exception 'round % keeps its identity', old.id using errcode = 'integrity_constraint_violation';
    end if;
    if old.settled_by is not null and (new.settled_by is distinct from old.settled_by or new.settled_at is distinct from old.settled_at)
       and not (new.settled_by is null and new.settled_at is null
                and exists (select 1 from rollbacks b where b.target_id = old.settled_by and b.transfer_id is not null)) then
      raise exception 'round % is settled once (it reopens only when the payment that settled it is rolled back)', old.id using errcode = 'integrity_constraint_violation';
    end if;
    return new;
  end $$`);
  await run(sql`with reopened as (
      update bet_lines l set state = 'open', winloss = null, payout = null, settled_by = null
      where l.state = 'settled' and exists (select 1 from rollbacks b where b.target_id = l.settled_by and b.transfer_id is not null)
    )
    update rounds r set settled_by = null, settled_at = null
    where r.settled_by is not null and exists (select 1 from rollbacks b where b.target_id = r.settled_by and b.transfer_id is not null)`);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const run = (statement: ReturnType<typeof sql>) => statement.execute(db);
  // The round guard of 2026-12-03T0001 again, and no settled -> open move: the bet-line guard's extra
  // clause then never runs (the transition table refuses the move first).
  await run(sql`create or replace function ledger_guard_round() returns trigger language plpgsql as $$
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
  await run(sql`alter table line_transitions disable trigger line_transitions_insert_only`);
  await run(sql`delete from line_transitions where from_state = 'settled' and to_state = 'open'`);
  await run(sql`alter table line_transitions enable trigger line_transitions_insert_only`);
}
