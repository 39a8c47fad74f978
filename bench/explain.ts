import { sql } from 'kysely';
import pg from 'pg';
import { createPool, databaseOn } from '../src/ledger/database.ts';
import { AHEAD, PREPARED } from '../src/ledger/client.ts';
import { asCurrency } from '../src/money/currency.ts';
import { Wallet } from '../src/wallet/wallet.ts';
import { ExternalTxId, PlayerCode, ProviderId, type WalletOperation } from '../src/wallet/types.ts';
import { WebhookHistory, newCaptureId } from '../src/webhooks/history.ts';
import { withClient } from './database.ts';
import { SERVER_URL } from './world.ts';

/**
 * Whether the hot queries stay index lookups as the ledger grows (issue #5, item 4), two ways:
 * - EXPLAIN (ANALYZE, BUFFERS) of every statement the gateway's own code sends for each kind of
 *   money call. The statements are not copies (a copy drifts as the SQL changes): the real Wallet
 *   runs each operation, with the webhook history row the pipeline writes, on a connection where
 *   Postgres's auto_explain sends the plan of every statement back as a notice, and rolls it back.
 *   Prepared statements run from their generic plan there, as the gateway's do after their fifth
 *   call; each operation runs twice and the second is kept (the first also compiles the triggers).
 * - pg_stat_user_tables before and after the load runs: a sequential scan the real gateway traffic
 *   made on a big table shows up there, whatever SQL it was.
 */

export interface Plan {
  query: string;
  ms: number;
  /** Planning of the generic plan: the gateway pays it once per connection and statement. */
  planningMs: number;
  /** "Index Scan using players_code_key on players", ... */
  scans: string[];
  sharedHit: number;
  sharedRead: number;
  /** Time in triggers (the transfer's trigger moves both balances): "transfers_apply 0.1 ms". */
  triggers: string[];
  /** Sequential scans of tables with more than a few pages (a small table is scanned faster than probed). */
  seqScans: string[];
}

interface Sample {
  code: string;
  currency: string;
}

/** A player with an event-dialect bet, and the wallet it bets from: real keys for the operations. */
async function sample(client: pg.Client): Promise<Sample> {
  const { rows } = await client.query<Sample>(
    `select p.code, t.currency from provider_transactions t join players p on p.id = t.player_id
     where t.kind = 'debit' and t.status = 'applied' and t.provider_id = 'dowinn' order by t.id desc limit 1`,
  );
  if (!rows[0]) throw new Error('no applied event-dialect debit to explain queries with');
  return rows[0];
}

class Rollback extends Error {}

/** What auto_explain sends for one statement (format json): the top of its EXPLAIN output, and how long it ran. */
interface Explained {
  ms: number;
  top: ExplainJson;
}

interface Captured {
  name: string;
  statements: Explained[];
}

/** auto_explain on this connection: every statement's plan, with its buffers and triggers, as a notice to us. */
const AUTO_EXPLAIN = [
  `load 'auto_explain'`,
  'set auto_explain.log_min_duration = 0',
  'set auto_explain.log_analyze = on',
  'set auto_explain.log_buffers = on',
  'set auto_explain.log_triggers = on',
  'set auto_explain.log_format = json',
  'set auto_explain.log_level = notice',
  'set client_min_messages = notice',
  'set plan_cache_mode = force_generic_plan',
];

/**
 * Each kind of money call, run by the Wallet with its history row and rolled back, its statements'
 * plans captured. What a call needs already in the ledger (the bet a win pays) is placed first and
 * kept: bets of one minor unit on rounds of their own, left open, which reconcile accepts like any.
 */
async function capture(database: string, s: Sample): Promise<Captured[]> {
  let into: Explained[] | undefined;
  const pool = createPool({ url: `${SERVER_URL}/${database}`, poolSize: 1, lockTimeoutMs: 5000, statementTimeoutMs: 30_000, preferIndexes: true });
  pool.on('connect', (client) => {
    client.on('notice', (notice) => {
      const message = notice.message ?? '';
      const ms = /^duration: ([\d.]+) ms/.exec(message)?.[1];
      if (into && ms !== undefined) into.push({ ms: Number(ms), top: JSON.parse(message.slice(message.indexOf('{'))) as ExplainJson });
    });
  });
  const db = databaseOn(pool);
  const wallet = new Wallet(db);
  const history = new WebhookHistory(db);
  const tag = `explain-${Date.now()}`;
  const money = (provider: string, id: string) => ({
    player: PlayerCode(s.code),
    currency: asCurrency(s.currency),
    provider: ProviderId(provider),
    txId: ExternalTxId(`${tag}-${id}`),
  });
  const bet = (provider: string, id: string, round: string, lines = false): WalletOperation => ({
    op: 'debit',
    ...money(provider, id),
    amount: 1n,
    roundId: `${tag}-${round}`,
    ...(lines ? { lines: [{ ref: '1', amount: 1n }] } : {}),
  });
  try {
    // Kept: the bets the win, the rollback, the result and the cancel below name.
    for (const op of [bet('scorpio-play', 'kept-bet', 'command-round'), bet('dowinn', 'kept-lines', 'event-round', true)]) {
      const outcome = await wallet.execute(op);
      if (outcome.type !== 'ok') throw new Error(`the explain set-up bet was ${outcome.type}`);
    }
    for (const statement of AUTO_EXPLAIN) await sql.raw(statement).execute(db);
    const calls: { name: string; op: WalletOperation }[] = [
      { name: 'balance', op: { op: 'balance', player: PlayerCode(s.code), currency: asCurrency(s.currency), requireActive: true } },
      { name: 'bet (command dialect)', op: bet('scorpio-play', 'bet', 'command-bet-round') },
      { name: 'bet with lines (event dialect)', op: bet('dowinn', 'lines', 'event-bet-round', true) },
      { name: 'win of a staked round', op: { op: 'credit', ...money('scorpio-play', 'win'), amount: 2n, roundId: `${tag}-command-round` } },
      { name: 'rollback of a bet', op: { op: 'rollback', player: PlayerCode(s.code), currency: asCurrency(s.currency), provider: ProviderId('scorpio-play'), target: ExternalTxId(`${tag}-kept-bet`) } },
      {
        name: 'result of a round',
        op: {
          op: 'settle',
          ...money('dowinn', 'result'),
          roundId: `${tag}-event-round`,
          lines: [{ ref: '1', stake: 1n, winloss: 1n }],
          totals: { stake: 1n, winloss: 1n },
        },
      },
      { name: 'cancel of a line', op: { op: 'cancel_bets', ...money('dowinn', 'cancel'), amount: 1n, roundId: `${tag}-event-round`, lines: [{ ref: '1', amount: 1n }] } },
    ];
    const out: Captured[] = [];
    for (const call of calls) {
      let statements: Explained[] = [];
      for (let run = 0; run < 2; run++) {
        statements = [];
        into = statements;
        await wallet
          .execute(call.op, async (trx, outcome) => {
            if (outcome.type !== 'ok') throw new Error(`${call.name}: the wallet said ${outcome.type}`);
            await history.recordIn(trx, {
              captureId: newCaptureId(),
              provider: 'provider' in call.op ? call.op.provider : 'scorpio-play',
              receivedAt: new Date(),
              source: 'vendor',
              headers: { 'content-type': 'application/json' },
              body: Buffer.from('{}'),
              payload: {},
              operation: call.op,
              player: s.code,
              transactionId: 'txId' in call.op ? call.op.txId : undefined,
              outcome: 'ok',
              answer: '{}',
              durationMs: 1,
            });
            throw new Rollback();
          })
          .catch((error: unknown) => {
            if (!(error instanceof Rollback)) throw error;
          });
        into = undefined;
      }
      out.push({ name: call.name, statements });
    }
    return out;
  } finally {
    await db.destroy();
  }
}

/** "select players, accounts, provider_transactions": what a statement does, and to which tables. */
function summary(text: string): string {
  const body = text.replace(AHEAD, '').replace(PREPARED, '');
  const verb = /^\s*(with|select|insert|update|delete)/i.exec(body)?.[1]?.toLowerCase() ?? 'statement';
  const tables = [...new Set([...body.matchAll(/\b(?:from|into|update|join)\s+"?(\w+)"?/gi)].map((m) => m[1]!).filter((t) => !/^(lateral|select|of)$/i.test(t)))];
  return `${verb} ${tables.join(', ')}`;
}

interface ExplainJson {
  'Query Text': string;
  Plan: PlanNode & Record<string, number>;
  'Planning Time'?: number;
  Triggers?: { 'Trigger Name': string; Time: number; Calls: number }[];
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function scansOf(node: PlanNode, out: { scan: string; relation?: string }[] = []): { scan: string; relation?: string }[] {
  if (node['Relation Name']) {
    const using = node['Index Name'] ? ` using ${node['Index Name']}` : '';
    out.push({ scan: `${node['Node Type']}${using} on ${node['Relation Name']}`, relation: node['Relation Name'] });
  }
  for (const child of node.Plans ?? []) scansOf(child, out);
  return out;
}

const ms = (t: number) => `${Math.round(t * 1000) / 1000} ms`;

/** The ledger's own triggers by name; Postgres's foreign-key checks (RI_ConstraintTrigger_*) summed. */
function triggersOf(top: ExplainJson): string[] {
  const all = top.Triggers ?? [];
  const fk = all.filter((t) => t['Trigger Name'].startsWith('RI_ConstraintTrigger'));
  const named = all.filter((t) => !fk.includes(t)).map((t) => `${t['Trigger Name']} ${ms(t.Time)}`);
  return fk.length ? [...named, `${fk.length} foreign-key checks ${ms(fk.reduce((sum, t) => sum + t.Time, 0))}`] : named;
}

/** EXPLAIN (ANALYZE, BUFFERS) of every statement of every kind of money call, writes rolled back. */
export async function explainHotQueries(database: string): Promise<Plan[]> {
  const keys = await withClient(database, sample);
  const calls = await capture(database, keys);
  const { rows: sizes } = await withClient(database, (client) => client.query<{ relname: string; relpages: number }>(`select relname, relpages from pg_class where relkind = 'r'`));
  const pages = new Map(sizes.map((r) => [r.relname, Number(r.relpages)]));
  return calls.flatMap((call) =>
    call.statements.map(({ ms, top }, n) => {
      const scans = scansOf(top.Plan);
      return {
        query: `${call.name} #${n + 1}: ${summary(top['Query Text'])}`,
        ms: Math.round(ms * 1000) / 1000,
        planningMs: Math.round((top['Planning Time'] ?? 0) * 1000) / 1000,
        scans: scans.map((sc) => sc.scan),
        sharedHit: top.Plan['Shared Hit Blocks'] ?? 0,
        sharedRead: top.Plan['Shared Read Blocks'] ?? 0,
        triggers: triggersOf(top),
        seqScans: scans.filter((sc) => sc.scan.startsWith('Seq Scan') && (pages.get(sc.relation ?? '') ?? 0) > 8).map((sc) => sc.scan),
      };
    }),
  );
}

export type TableStats = Map<string, { seqScan: number; seqRead: number; idxScan: number; rows: number }>;

export async function tableStats(database: string): Promise<TableStats> {
  return withClient(database, async (client) => {
    const { rows } = await client.query<{ relname: string; seq_scan: string; seq_tup_read: string; idx_scan: string | null; n_live_tup: string }>(
      `select relname, seq_scan, seq_tup_read, idx_scan, n_live_tup from pg_stat_user_tables`,
    );
    return new Map(rows.map((r) => [r.relname, { seqScan: Number(r.seq_scan), seqRead: Number(r.seq_tup_read), idxScan: Number(r.idx_scan ?? 0), rows: Number(r.n_live_tup) }]));
  });
}

export interface ScanDelta {
  table: string;
  rows: number;
  seqScans: number;
  /** Rows read by those sequential scans: what grows with the ledger if a hot query scans. */
  seqRowsRead: number;
  indexScans: number;
}

/** What the traffic between two snapshots did to each table (statistics arrive within a second or so). */
export function scanDeltas(before: TableStats, after: TableStats): ScanDelta[] {
  return [...after]
    .map(([table, a]) => {
      const b = before.get(table) ?? { seqScan: 0, seqRead: 0, idxScan: 0, rows: 0 };
      return { table, rows: a.rows, seqScans: a.seqScan - b.seqScan, seqRowsRead: a.seqRead - b.seqRead, indexScans: a.idxScan - b.idxScan };
    })
    .filter((d) => d.seqScans > 0 || d.indexScans > 0)
    .sort((x, y) => y.seqRowsRead - x.seqRowsRead || y.indexScans - x.indexScans);
}
