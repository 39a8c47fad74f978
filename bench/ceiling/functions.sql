-- `npm run bench:ceiling` only (bench/ceiling/replay.ts): a bet and a win as one SQL function each,
-- to measure what moving the money rules into Postgres would give (issue #12, goal 1's first lever).
-- Installed into the ceiling run's own database, never the gateway's. They hold the rules the bench's
-- rounds meet (unknown player, a repeat, a rollback first, a settled round, a blocked player, funds,
-- a win on a round with no stake) and write the rows the wallet writes for them; they leave out what
-- the bench never sends (itemised lines, a dialect's precedence, the records of refusals).
create or replace function ceiling_bet(p_prov text, p_code text, p_cur text, p_tx text, p_round text, p_amount bigint, p_details jsonb, p_game text)
returns table (outcome text, balance bigint) language plpgsql as $$
declare
  w record; t record; m record; r record; g bigint; rid bigint; mid bigint; pid bigint;
begin
  select p.id as player_id, p.status, a.id as account_id, a.balance into w
    from players p join accounts a on a.player_id = p.id and a.kind = 'player' and a.currency = p_cur
    where p.code = p_code for update of a;
  if not found then return query select 'unknown_player', null::bigint; return; end if;
  select tx.id, tx.player_id, tx.kind, tx.amount, tx.status into t from provider_transactions tx where tx.provider_id = p_prov and tx.external_id = p_tx;
  if found then return query select 'duplicate', w.balance; return; end if;
  perform 1 from rollbacks rb where rb.provider_id = p_prov and rb.target_external_id = p_tx;
  if found then return query select 'rolled_back', w.balance; return; end if;
  select rr.id, rr.currency, rr.settled_by into r from rounds rr where rr.provider_id = p_prov and rr.player_id = w.player_id and rr.external_id = p_round limit 1;
  if r.id is not null and r.settled_by is not null then return query select 'round_settled', w.balance; return; end if;
  if w.status = 'blocked' then return query select 'player_blocked', w.balance; return; end if;
  if w.balance < p_amount then return query select 'insufficient_funds', w.balance; return; end if;
  select a.id into g from accounts a where a.kind = 'game' and a.provider_id = p_prov and a.currency = p_cur and a.slot = w.player_id % 32;
  if r.id is null then
    insert into rounds (provider_id, external_id, player_id, currency) values (p_prov, p_round, w.player_id, p_cur) returning id into rid;
  else rid := r.id; end if;
  insert into transfers (debit_account_id, credit_account_id, amount, currency, kind) values (w.account_id, g, p_amount, p_cur, 'bet') returning id into mid;
  insert into provider_transactions (provider_id, external_id, player_id, kind, currency, amount, round_id, details, game, status, refusal, transfer_id)
    values (p_prov, p_tx, w.player_id, 'debit', p_cur, p_amount, rid, p_details, p_game, 'applied', null, mid) returning id into pid;
  insert into bet_lines (provider_transaction_id, round_id, ref, amount) values (pid, rid, p_tx, p_amount);
  return query select 'ok', w.balance - p_amount;
end $$;

create or replace function ceiling_win(p_prov text, p_code text, p_cur text, p_tx text, p_round text, p_amount bigint, p_details jsonb, p_game text)
returns table (outcome text, balance bigint) language plpgsql as $$
declare
  w record; t record; r record; g bigint; mid bigint; staked boolean;
begin
  select p.id as player_id, p.status, a.id as account_id, a.balance into w
    from players p join accounts a on a.player_id = p.id and a.kind = 'player' and a.currency = p_cur
    where p.code = p_code for update of a;
  if not found then return query select 'unknown_player', null::bigint; return; end if;
  select tx.id, tx.player_id, tx.kind, tx.amount, tx.status into t from provider_transactions tx where tx.provider_id = p_prov and tx.external_id = p_tx;
  if found then return query select 'duplicate', w.balance; return; end if;
  perform 1 from rollbacks rb where rb.provider_id = p_prov and rb.target_external_id = p_tx;
  if found then return query select 'rolled_back', w.balance; return; end if;
  select rr.id, rr.currency, rr.settled_by into r from rounds rr where rr.provider_id = p_prov and rr.player_id = w.player_id and rr.external_id = p_round limit 1;
  if r.id is null then return query select 'no_stake', w.balance; return; end if;
  select exists (select 1 from bet_lines l where l.round_id = r.id and l.state <> 'cancelled') into staked;
  if not staked then return query select 'no_stake', w.balance; return; end if;
  if r.settled_by is not null then return query select 'round_settled', w.balance; return; end if;
  select a.id into g from accounts a where a.kind = 'game' and a.provider_id = p_prov and a.currency = p_cur and a.slot = w.player_id % 32;
  insert into transfers (debit_account_id, credit_account_id, amount, currency, kind) values (g, w.account_id, p_amount, p_cur, 'win') returning id into mid;
  insert into provider_transactions (provider_id, external_id, player_id, kind, currency, amount, round_id, details, game, status, refusal, transfer_id)
    values (p_prov, p_tx, w.player_id, 'credit', p_cur, p_amount, r.id, p_details, p_game, 'applied', null, mid);
  return query select 'ok', w.balance + p_amount;
end $$;
