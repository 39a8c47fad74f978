import pg from 'pg';
import { withClient } from './database.ts';

/**
 * Whether the hot queries stay index lookups as the ledger grows (issue #5, item 4), two ways:
 * - EXPLAIN (ANALYZE, BUFFERS) of each hot query, copied from src/wallet/records.ts and
 *   src/webhooks/history.ts as of the prepared-statement change (writes inside a transaction rolled
 *   back), with the plan's scans listed and any sequential scan flagged. Each is prepared and run
 *   from its generic plan, as the gateway's prepared statements run after their fifth call. A copy
 *   drifts when the gateway's SQL changes, so there is a second check that does not:
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
  playerId: string;
  txId: string;
  currency: string;
  provider: string;
  externalId: string;
  roundExternal: string;
  roundId: string;
  accountId: string;
}

/** A recent applied event-dialect debit (it has bet lines) with its player and round: real keys for the queries. */
async function sample(client: pg.Client): Promise<Sample> {
  const { rows } = await client.query<Sample>(
    `select p.code, p.id as "playerId", t.id as "txId", t.currency, t.provider_id as provider, t.external_id as "externalId",
            r.external_id as "roundExternal", r.id as "roundId", a.id as "accountId"
     from provider_transactions t join players p on p.id = t.player_id join rounds r on r.id = t.round_id
     join accounts a on a.player_id = p.id and a.kind = 'player' and a.currency = t.currency
     where t.kind = 'debit' and t.status = 'applied' and exists (select 1 from bet_lines l where l.provider_transaction_id = t.id)
     order by t.id desc limit 1`,
  );
  if (!rows[0]) throw new Error('no applied debit to explain queries with');
  return rows[0];
}

function hotQueries(s: Sample): { name: string; text: string; values: unknown[] }[] {
  return [
    {
      name: 'wallet lock: wallet by player code + currency FOR UPDATE (sent ahead of the snapshot)',
      text: `select a.id from players p join accounts a on a.player_id = p.id and a.kind = 'player' and a.currency = $1
             where p.code = $2 for update of a`,
      values: [s.currency, s.code],
    },
    {
      name: 'wallet snapshot: the wallet, with the transaction, rollback marker and round of the key',
      text: `select p.id as player_id, p.status, a.id as account_id, a.balance,
               t.id as tx_id, t.player_id as tx_player_id, t.kind, t.currency, t.amount, t.status, t.refusal, tr.external_id as tx_round,
               m.id as marker_id, m.target_id, m.player_id, r.id as round_id, r.currency as round_currency
             from players p
             join accounts a on a.player_id = p.id and a.kind = 'player' and a.currency = $1
             left join provider_transactions t on t.provider_id = $2 and t.external_id = $3
             left join rounds tr on tr.id = t.round_id
             left join rollbacks m on m.provider_id = $2 and m.target_external_id = $3
             left join lateral (
               select r.id, r.currency from rounds r where r.provider_id = $2 and r.player_id = p.id and r.external_id = $4 limit 1
             ) r on true
             where p.code = $5`,
      values: [s.currency, s.provider, s.externalId, s.roundExternal, s.code],
    },
    {
      name: 'provider transaction by (provider_id, external_id)',
      text: `select t.id, t.player_id, t.kind, t.currency, t.amount, t.status, t.refusal, r.external_id as round
             from provider_transactions t left join rounds r on r.id = t.round_id where t.provider_id = $1 and t.external_id = $2`,
      values: [s.provider, s.externalId],
    },
    {
      name: 'rollback marker by (provider_id, target_external_id)',
      text: `select id, target_id, player_id from rollbacks where provider_id = $1 and target_external_id = $2`,
      values: [s.provider, s.externalId],
    },
    {
      name: 'round by (provider_id, player_id, external_id)',
      text: `select id, currency from rounds where provider_id = $1 and player_id = $2 and external_id = $3`,
      values: [s.provider, s.playerId, s.roundExternal],
    },
    {
      name: 'round settled? (an applied credit of the round not rolled back)',
      text: `select t.id from provider_transactions t where t.round_id = $1 and t.kind = 'credit' and t.status = 'applied'
             and not exists (select r.id from rollbacks r where r.target_id = t.id)`,
      values: [s.roundId],
    },
    {
      name: 'bet lines of a round, with whether their bet was refused or rolled back (event bet and bet_cancel)',
      text: `select l.id, l.ref, l.amount, (t.status <> 'applied' or exists (select r.id from rollbacks r where r.target_id = t.id)) as settled
             from bet_lines l join provider_transactions t on t.id = l.provider_transaction_id where l.round_id = $1 and l.ref in ($2)`,
      values: [s.roundId, '1'],
    },
    {
      name: 'cancelled bet lines of a round (event bet and bet_cancel)',
      text: `select ref from line_cancels where provider_id = $1 and player_id = $2 and round_external_id = $3 and ref in ($4)`,
      values: [s.provider, s.playerId, s.roundExternal, '1'],
    },
    {
      name: "amount of a bet's lines cancelled one by one (whole rollback)",
      text: `select coalesce(sum(l.amount), 0) as total from line_cancels c join bet_lines l on l.id = c.line_id where l.provider_transaction_id = $1`,
      values: [s.txId],
    },
    {
      name: 'post: round + transfer (its trigger moves both balances) + provider transaction, one statement',
      text: `with new_round as (
               insert into rounds (provider_id, external_id, player_id, currency) select $1, $2, $3, $4
               on conflict on constraint round_unique do nothing returning id
             ), moved as (
               insert into transfers (debit_account_id, credit_account_id, amount, currency, kind)
               select $5::bigint, (select id from accounts where kind = 'game' and provider_id = $1 and currency = $4 and slot = $3::bigint % 32), 100, $4, 'bet'
               returning id
             )
             insert into provider_transactions (provider_id, external_id, player_id, kind, currency, amount, round_id, status, transfer_id)
             values ($1, $6, $3, 'debit', $4, 100, (select id from new_round), 'applied', (select id from moved))
             returning id, round_id`,
      values: [s.provider, `explain-round-${Date.now()}`, s.playerId, s.currency, s.accountId, `explain-tx-${Date.now()}`],
    },
    {
      name: 'webhook history insert',
      text: `insert into webhooks (capture_id, provider_id, received_at, source, headers, body, plaintext, payload, operation,
               player_code, transaction_id, outcome, answer, duration_ms)
             values (gen_random_uuid(), $1, now(), 'vendor', '{"content-type":"application/json"}', convert_to('{}', 'UTF8'), false,
               '{"command":"bet"}', '{"op":"debit"}', $2, $3, 'ok', '{"result":0}', 3)
             returning id`,
      values: [s.provider, s.code, `explain-${Date.now()}`],
    },
  ];
}

interface ExplainJson {
  Plan: PlanNode & Record<string, number>;
  'Execution Time': number;
  'Planning Time': number;
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

const { escapeLiteral } = pg;
const ms = (t: number) => `${Math.round(t * 1000) / 1000} ms`;

/** The ledger's own triggers by name; Postgres's foreign-key checks (RI_ConstraintTrigger_*) summed. */
function triggersOf(top: ExplainJson): string[] {
  const all = top.Triggers ?? [];
  const fk = all.filter((t) => t['Trigger Name'].startsWith('RI_ConstraintTrigger'));
  const named = all.filter((t) => !fk.includes(t)).map((t) => `${t['Trigger Name']} ${ms(t.Time)}`);
  return fk.length ? [...named, `${fk.length} foreign-key checks ${ms(fk.reduce((sum, t) => sum + t.Time, 0))}`] : named;
}

/** EXPLAIN (ANALYZE, BUFFERS) of every hot query, writes rolled back. */
export async function explainHotQueries(database: string): Promise<Plan[]> {
  return withClient(database, async (client) => {
    const keys = await sample(client);
    const { rows: sizes } = await client.query<{ relname: string; relpages: number }>(`select relname, relpages from pg_class where relkind = 'r'`);
    const pages = new Map(sizes.map((r) => [r.relname, Number(r.relpages)]));
    const plans: Plan[] = [];
    for (const q of hotQueries(keys)) {
      // Twice, keeping the second: the first call in a session also compiles the trigger functions and plans their statements.
      let top: ExplainJson | undefined;
      for (let run = 0; run < 2; run++) {
        await client.query('begin');
        try {
          await client.query('set local plan_cache_mode = force_generic_plan');
          await client.query(`prepare hot as ${q.text}`);
          const args = q.values.map((v) => escapeLiteral(String(v))).join(', ');
          const { rows } = await client.query<{ 'QUERY PLAN': [ExplainJson] }>(`explain (analyze, buffers, format json) execute hot(${args})`);
          top = rows[0]!['QUERY PLAN'][0];
        } finally {
          await client.query('rollback');
          await client.query('deallocate all');
        }
      }
      const scans = scansOf(top!.Plan);
      plans.push({
        query: q.name,
        ms: Math.round(top!['Execution Time'] * 1000) / 1000,
        planningMs: Math.round(top!['Planning Time'] * 1000) / 1000,
        scans: scans.map((s) => s.scan),
        sharedHit: top!.Plan['Shared Hit Blocks'] ?? 0,
        sharedRead: top!.Plan['Shared Read Blocks'] ?? 0,
        triggers: triggersOf(top!),
        seqScans: scans.filter((s) => s.scan.startsWith('Seq Scan') && (pages.get(s.relation ?? '') ?? 0) > 8).map((s) => s.scan),
      });
    }
    return plans;
  });
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
