import { sql } from 'kysely';
import type { Db } from '../../src/ledger/database.ts';
import { asCurrency } from '../../src/money/currency.ts';
import { BackOffice } from '../../src/wallet/backoffice.ts';
import { ExternalTxId, PlayerCode, ProviderId, type Outcome } from '../../src/wallet/types.ts';
import { Wallet } from '../../src/wallet/wallet.ts';

export const USD = asCurrency('USD');
export const EUR = asCurrency('EUR');
export const PROVIDER = ProviderId('scorpio-play');

/** Ids of rows of every kind the ledger holds, after ordinary activity through the wallet and the cashier. */
export interface Activity {
  playerId: bigint;
  /** The player's USD wallet. */
  walletId: bigint;
  /** The player's EUR wallet. */
  eurWalletId: bigint;
  /** Transfers of: the deposit, an applied bet, an applied win, the refund of a rolled back bet. */
  depositTransferId: bigint;
  betTransferId: bigint;
  winTransferId: bigint;
  refundTransferId: bigint;
  betTxId: bigint;
  refundRollbackId: bigint;
  depositReference: string;
}

/** A player with USD and EUR wallets, deposits, bets, wins, a rollback, a refused bet and its rollback, a withdrawal. */
export async function ordinaryActivity(db: Db, code: string): Promise<Activity> {
  const backOffice = new BackOffice(db);
  const wallet = new Wallet(db);
  const player = PlayerCode(code);
  const ok = (outcome: Outcome) => {
    if (outcome.type !== 'ok') throw new Error(`unexpected ${JSON.stringify(outcome, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
  };
  const created = await backOffice.createPlayer(player, [USD, EUR]);
  if (!created.ok) throw new Error(created.reason);
  const depositReference = `${code}:deposit`;
  if (!(await backOffice.cashier('deposit', player, USD, 10_000n, depositReference)).ok) throw new Error('deposit');
  if (!(await backOffice.cashier('deposit', player, EUR, 5_000n, `${code}:deposit-eur`)).ok) throw new Error('deposit eur');
  const money = { player, currency: USD, provider: PROVIDER, roundId: `${code}-round` };
  ok(await wallet.execute({ op: 'debit', ...money, txId: ExternalTxId(`${code}-bet`), amount: 1_500n }));
  ok(await wallet.execute({ op: 'credit', ...money, txId: ExternalTxId(`${code}-win`), amount: 2_500n }));
  ok(await wallet.execute({ op: 'debit', ...money, txId: ExternalTxId(`${code}-bet-2`), amount: 700n }));
  ok(await wallet.execute({ op: 'rollback', player, currency: USD, provider: PROVIDER, target: ExternalTxId(`${code}-bet-2`) }));
  await wallet.execute({ op: 'debit', ...money, txId: ExternalTxId(`${code}-too-big`), amount: 1_000_000n });
  ok(await wallet.execute({ op: 'rollback', player, currency: USD, provider: PROVIDER, target: ExternalTxId(`${code}-too-big`) }));
  ok(await wallet.execute({ op: 'debit', player, currency: EUR, provider: ProviderId('slotcity'), txId: ExternalTxId(`${code}-eur-bet`), amount: 300n }));
  if (!(await backOffice.cashier('withdrawal', player, USD, 1_000n, `${code}:withdrawal`)).ok) throw new Error('withdrawal');

  const { rows } = await sql<Omit<Activity, 'depositReference'>>`
    select p.id as "playerId",
      (select id from accounts where player_id = p.id and kind = 'player' and currency = 'USD') as "walletId",
      (select id from accounts where player_id = p.id and kind = 'player' and currency = 'EUR') as "eurWalletId",
      (select transfer_id from cashier_operations where reference = ${depositReference}) as "depositTransferId",
      (select transfer_id from provider_transactions where external_id = ${`${code}-bet`}) as "betTransferId",
      (select id from provider_transactions where external_id = ${`${code}-bet`}) as "betTxId",
      (select transfer_id from provider_transactions where external_id = ${`${code}-win`}) as "winTransferId",
      (select transfer_id from rollbacks where target_external_id = ${`${code}-bet-2`}) as "refundTransferId",
      (select id from rollbacks where target_external_id = ${`${code}-bet-2`}) as "refundRollbackId"
    from players p where p.code = ${code}`.execute(db);
  return { ...rows[0]!, depositReference };
}
