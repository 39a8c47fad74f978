import { sql } from 'kysely';
import type { Db } from '../ledger/database.ts';

/** One provider's traffic as the webhook history saw it: what the console's overview shows. */
export interface ProviderTraffic {
  provider: string;
  /** Calls the vendor made (retries and replays are the casino's, not the vendor's). */
  calls5m: number;
  failures5m: number;
  callsHour: number;
  failuresHour: number;
  /** Time to answer in the last hour, ms; null without calls. */
  p50Ms: number | null;
  p99Ms: number | null;
  /** Failures (fault, parked) no retry or replay has settled, whenever they came. */
  openFailures: number;
  lastCallAt: Date | null;
}

/** A provider that has not called for this long, while it called earlier in the day, is worth a look. */
export const SILENT_AFTER_MS = 15 * 60_000;

/**
 * Per-provider traffic from the webhook history, in one statement. The hour's rows come from the
 * (provider_id, received_at) index; the open failures from the partial index on unresolved failures;
 * the last call from the same index read backwards, so the statement stays cheap on a large history.
 */
export async function providerTraffic(db: Db, providers: readonly string[], now = new Date()): Promise<ProviderTraffic[]> {
  if (providers.length === 0) return [];
  const hourAgo = new Date(now.getTime() - 3_600_000);
  const fiveAgo = new Date(now.getTime() - 300_000);
  const { rows } = await sql<{
    provider: string;
    calls_5m: number;
    failures_5m: number;
    calls_hour: number;
    failures_hour: number;
    p50: number | null;
    p99: number | null;
    open_failures: number;
    last_call_at: Date | null;
  }>`
    select p.provider,
           coalesce(h.calls_5m, 0)::int as calls_5m, coalesce(h.failures_5m, 0)::int as failures_5m,
           coalesce(h.calls_hour, 0)::int as calls_hour, coalesce(h.failures_hour, 0)::int as failures_hour,
           h.p50, h.p99,
           (select count(*) from webhooks f
             where f.provider_id = p.provider and f.outcome in ('fault', 'parked') and f.resolved_at is null)::int as open_failures,
           (select max(l.received_at) from webhooks l where l.provider_id = p.provider and l.source = 'vendor') as last_call_at
      from unnest(${sql.val(providers)}::text[]) as p(provider)
      left join lateral (
        select count(*) filter (where w.received_at >= ${fiveAgo}) as calls_5m,
               count(*) filter (where w.received_at >= ${fiveAgo} and w.outcome in ('fault', 'parked', 'rejected')) as failures_5m,
               count(*) as calls_hour,
               count(*) filter (where w.outcome in ('fault', 'parked', 'rejected')) as failures_hour,
               percentile_disc(0.5) within group (order by w.duration_ms) as p50,
               percentile_disc(0.99) within group (order by w.duration_ms) as p99
          from webhooks w
         where w.provider_id = p.provider and w.source = 'vendor' and w.received_at >= ${hourAgo} and w.received_at <= ${now}
      ) h on true
     order by p.provider`.execute(db);
  return rows.map((r) => ({
    provider: r.provider,
    calls5m: r.calls_5m,
    failures5m: r.failures_5m,
    callsHour: r.calls_hour,
    failuresHour: r.failures_hour,
    p50Ms: r.p50 === null ? null : Number(r.p50),
    p99Ms: r.p99 === null ? null : Number(r.p99),
    openFailures: r.open_failures,
    lastCallAt: r.last_call_at,
  }));
}

/** How the overview labels a provider: failing calls and open failures first, then silence. */
export function trafficHealth(t: ProviderTraffic, now = new Date()): 'failing' | 'silent' | 'idle' | 'ok' {
  if (t.failures5m > 0 || t.openFailures > 0) return 'failing';
  if (t.lastCallAt === null) return 'idle';
  const quiet = now.getTime() - t.lastCallAt.getTime();
  if (quiet > SILENT_AFTER_MS && quiet < 24 * 3_600_000) return 'silent';
  return quiet >= 24 * 3_600_000 ? 'idle' : 'ok';
}
