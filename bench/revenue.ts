import { createDatabase } from '../src/ledger/database.ts';
import { Reports } from '../src/reports/ggr.ts';
import { SERVER_URL } from './world.ts';

export interface RevenueTiming {
  /** Closed days rolled up, and how long that took (the scheduled job's catch-up, done here at once). */
  daysRolledUp: number;
  rollUpSeconds: number;
  /** A month by provider and day: rows, and the slowest of three runs. */
  monthRows: number;
  monthMs: number;
  /** The same month straight from the ledger (nothing rolled up): what the roll-up saves. */
  monthFromLedgerMs: number;
}

const ms = (start: number) => Math.round(performance.now() - start);

/** Issue 14: a month's GGR by provider and day on the big ledger, with and without the roll-up of closed days. */
export async function measureRevenue(database: string): Promise<RevenueTiming> {
  const db = createDatabase({ url: `${SERVER_URL}/${database}`, poolSize: 2, lockTimeoutMs: 5000, statementTimeoutMs: 0 });
  try {
    const reports = new Reports(db);
    const now = Date.now();
    const to = new Date(now).toISOString().slice(0, 10);
    const from = new Date(now - 30 * 86_400_000).toISOString().slice(0, 10);
    await db.deleteFrom('report_days').execute();
    await db.deleteFrom('report_days_done').execute();
    let start = performance.now();
    const fromLedger = await reports.ggr({ from, to, by: 'day' }, now);
    const monthFromLedgerMs = ms(start);
    start = performance.now();
    let daysRolledUp = 0;
    for (let did = await reports.rollUp(now, 366); did.length; did = await reports.rollUp(now, 366)) daysRolledUp += did.length;
    const rollUpSeconds = Math.round(ms(start) / 100) / 10;
    let monthMs = 0;
    let monthRows = 0;
    for (let i = 0; i < 3; i++) {
      start = performance.now();
      const rows = await reports.ggr({ from, to, by: 'day' }, now);
      monthMs = Math.max(monthMs, ms(start));
      monthRows = rows.length;
    }
    if (monthRows !== fromLedger.length) throw new Error(`the rolled-up month has ${monthRows} rows, the ledger's ${fromLedger.length}`);
    return { daysRolledUp, rollUpSeconds, monthRows, monthMs, monthFromLedgerMs };
  } finally {
    await db.destroy();
  }
}
