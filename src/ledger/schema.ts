import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** Kysely's view of the ledger tables (migrations/ is the source of truth). */
type Id = ColumnType<bigint, never, never>;
type CreatedAt = ColumnType<Date, never, never>;

export type PlayerStatus = 'active' | 'blocked';
export type AccountKind = 'player' | 'game' | 'cashier';
/** `promo_win`: a win the vendor pays without a stake (a bonus call, a free bet, a promotion), kept apart from game wins. */
export type TransferKind = 'bet' | 'win' | 'promo_win' | 'bet_refund' | 'win_reversal' | 'adjustment' | 'deposit' | 'withdrawal';
export type ProviderTransactionKind = 'debit' | 'credit' | 'refund' | 'adjust';

export interface PlayersTable {
  id: Id;
  code: string;
  status: ColumnType<PlayerStatus, PlayerStatus | undefined, PlayerStatus>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, never, Date>;
}

export interface AccountsTable {
  id: Id;
  kind: AccountKind;
  player_id: bigint | null;
  provider_id: string | null;
  currency: string;
  slot: Generated<number>;
  balance: ColumnType<bigint, never, never>;
  created_at: CreatedAt;
}

export interface TransfersTable {
  id: Id;
  debit_account_id: bigint;
  credit_account_id: bigint;
  amount: bigint;
  currency: string;
  kind: TransferKind;
  created_at: CreatedAt;
}

export interface RoundsTable {
  id: Id;
  provider_id: string;
  external_id: string;
  player_id: bigint;
  currency: string;
  /** The transaction that settled the round (set once). */
  settled_by: ColumnType<bigint | null, never, bigint>;
  settled_at: ColumnType<Date | null, never, Date>;
  created_at: CreatedAt;
}

export interface ProviderTransactionsTable {
  id: Id;
  provider_id: string;
  external_id: string;
  player_id: bigint;
  kind: ProviderTransactionKind;
  currency: string;
  amount: bigint;
  round_id: bigint | null;
  status: 'applied' | 'refused';
  refusal: string | null;
  transfer_id: bigint | null;
  details: ColumnType<Record<string, unknown> | null, string | null, never>;
  /** The vendor's game of the call, where its dialect names one (for reports). */
  game: ColumnType<string | null, string | null | undefined, never>;
  created_at: CreatedAt;
}

export interface RollbacksTable {
  id: Id;
  provider_id: string;
  target_external_id: string;
  /** The rollback's own transaction id, where the dialect gives it one. */
  external_id: string | null;
  player_id: bigint;
  target_id: bigint | null;
  transfer_id: bigint | null;
  created_at: CreatedAt;
}

export interface CashierOperationsTable {
  id: Id;
  reference: string;
  player_id: bigint;
  kind: 'deposit' | 'withdrawal';
  currency: string;
  amount: bigint;
  transfer_id: bigint;
  created_at: CreatedAt;
}

export interface BetLinesTable {
  id: Id;
  provider_transaction_id: bigint;
  round_id: bigint;
  ref: string;
  amount: bigint;
  state: ColumnType<'open' | 'settled' | 'cancelled', never, 'settled' | 'cancelled'>;
  winloss: ColumnType<bigint | null, never, bigint>;
  payout: ColumnType<bigint | null, never, bigint>;
  settled_by: ColumnType<bigint | null, never, bigint>;
}

/** The bet line state machine as data (src/wallet/rounds.ts holds the same rows). */
export interface LineTransitionsTable {
  from_state: string;
  to_state: string;
}

/** A message refused under the round rules, with what the vendor claimed (rule 14). */
export interface RoundRefusalsTable {
  id: Id;
  provider_id: string;
  player_id: bigint;
  round_external_id: string;
  round_id: bigint | null;
  external_id: string;
  operation: string;
  reason: string;
  detail: string;
  claim: ColumnType<unknown, string, never>;
  created_at: CreatedAt;
}

export interface LineCancelsTable {
  id: Id;
  provider_id: string;
  round_external_id: string;
  ref: string;
  player_id: bigint;
  line_id: bigint | null;
  cancel_id: bigint;
  created_at: CreatedAt;
}

export interface PlayerSessionsTable {
  id: Id;
  provider_id: string;
  external_id: string;
  player_id: bigint;
  kind: 'login' | 'logout';
  details: ColumnType<Record<string, unknown> | null, string | null, never>;
  created_at: CreatedAt;
}

export type WebhookOutcome = 'ok' | 'duplicate' | 'refused' | 'rejected' | 'fault' | 'parked';
export type WebhookSource = 'vendor' | 'retry' | 'replay' | 'import';

export interface WebhooksTable {
  id: Id;
  capture_id: string;
  provider_id: string;
  received_at: Date;
  source: WebhookSource;
  headers: ColumnType<Record<string, unknown>, string, never>;
  body: Buffer;
  /** Where under the provider's webhook address the call came ('' for a dialect with one address). */
  path: ColumnType<string, string | undefined, never>;
  /** The body is the decoded payload (an import of a vendor's export), not the wire form. */
  plaintext: ColumnType<boolean, boolean | undefined, never>;
  payload: ColumnType<unknown, string | null, never>;
  operation: ColumnType<unknown, string | null, never>;
  player_code: string | null;
  transaction_id: string | null;
  outcome: WebhookOutcome;
  detail: string | null;
  answer: string | null;
  duration_ms: number;
  replay_of: bigint | null;
  resolved_at: ColumnType<Date | null, never, Date>;
  resolved_by: ColumnType<bigint | null, never, bigint>;
}

/** A player's user at a vendor (the vendor's user code, stored at registration). */
export interface ProviderUsersTable {
  player_id: bigint;
  provider_id: string;
  user_code: string;
  created_at: CreatedAt;
}

export type Role = 'viewer' | 'operator' | 'admin';

export interface OperatorsTable {
  id: Id;
  name: string;
  role: Role;
  password_hash: string;
  status: ColumnType<'active' | 'disabled', 'active' | 'disabled' | undefined, 'active' | 'disabled'>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, never, Date>;
}

export interface OperatorSessionsTable {
  token_hash: string;
  operator_id: bigint;
  csrf: string;
  created_at: CreatedAt;
  seen_at: ColumnType<Date, never, Date>;
  expires_at: Date;
  ended_at: ColumnType<Date | null, never, Date>;
  ip: string | null;
  user_agent: string | null;
}

export type AuditVia = 'console' | 'token' | 'cli';
export type AuditOutcome = 'ok' | 'refused' | 'failed';

export interface AuditEventsTable {
  id: Id;
  at: CreatedAt;
  actor: string;
  via: AuditVia;
  ip: string | null;
  action: string;
  target: string | null;
  outcome: AuditOutcome;
  detail: ColumnType<Record<string, unknown>, string | undefined, never>;
}

export interface VendorReconcileRunsTable {
  id: Id;
  provider_id: string;
  period_from: Date;
  period_to: Date;
  source: 'api' | 'import';
  started_by: string;
  started_at: CreatedAt;
  finished_at: Date | null;
  vendor_records: number | null;
  matched: number | null;
  findings: number | null;
  error: string | null;
}

export interface VendorFindingsTable {
  id: Id;
  provider_id: string;
  key: string;
  kind: string;
  at: Date;
  player_code: string | null;
  currency: string | null;
  detail: string;
  vendor: ColumnType<unknown, string | null, string | null>;
  ledger: ColumnType<unknown, string | null, string | null>;
  first_run: bigint;
  last_run: bigint;
  state: ColumnType<'open' | 'resolved' | 'explained', 'open' | undefined, 'open' | 'resolved' | 'explained'>;
  resolved_by: string | null;
  resolved_at: Date | null;
  resolution: ColumnType<unknown, string | null, string | null>;
}

export interface ReportDaysTable {
  day: string;
  provider_id: string;
  game: string;
  currency: string;
  rounds: bigint;
  players: bigint;
  bets: bigint;
  /** The money sums are numeric (a day's sum may pass the largest bigint): exact decimal text. */
  stakes: string;
  refunds: string;
  wins: string;
  reversals: string;
  adjustments: string;
  promo_wins: string;
  /** Cashier adjustments reconciliation made for the provider's findings, net to the players. */
  reconciliation: string;
}

export interface Database {
  report_days: ReportDaysTable;
  vendor_reconcile_runs: VendorReconcileRunsTable;
  vendor_findings: VendorFindingsTable;
  report_days_done: { day: string; computed_at: ColumnType<Date, never, never> };
  operators: OperatorsTable;
  operator_sessions: OperatorSessionsTable;
  audit_events: AuditEventsTable;
  provider_users: ProviderUsersTable;
  webhooks: WebhooksTable;
  bet_lines: BetLinesTable;
  line_transitions: LineTransitionsTable;
  round_refusals: RoundRefusalsTable;
  line_cancels: LineCancelsTable;
  player_sessions: PlayerSessionsTable;
  players: PlayersTable;
  accounts: AccountsTable;
  transfers: TransfersTable;
  rounds: RoundsTable;
  provider_transactions: ProviderTransactionsTable;
  rollbacks: RollbacksTable;
  cashier_operations: CashierOperationsTable;
}

export type ProviderTransaction = Selectable<ProviderTransactionsTable>;
export type VendorFinding = Selectable<VendorFindingsTable>;
export type NewTransfer = Insertable<TransfersTable>;
