import pg from 'pg';
import { SERVER_URL } from './world.ts';

/**
 * What the gateway's Postgres sessions are doing, sampled from pg_stat_activity every 100 ms over a
 * measured window: on average how many are running, waiting on a lock (a hot row), on the WAL
 * (commits), or idle inside a transaction (waiting for the gateway's next statement). Where the
 * time goes, without touching the gateway.
 */

export type WaitProfile = Record<string, number>;

export interface WaitSampler {
  stop(): Promise<WaitProfile>;
}

export async function sampleWaits(database: string, everyMs = 100): Promise<WaitSampler> {
  const client = new pg.Client({ connectionString: `${SERVER_URL}/${database}`, application_name: 'croupier-bench-waits' });
  await client.connect();
  const totals = new Map<string, number>();
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const { rows } = await client.query<{ what: string; n: string }>(
        `select case
                  when state = 'active' and wait_event is null then 'running'
                  when state = 'active' then wait_event_type || ':' || wait_event
                  else state
                end as what, count(*) as n
         from pg_stat_activity
         where datname = $1 and backend_type = 'client backend' and pid <> pg_backend_pid()
         group by 1`,
        [database],
      );
      for (const r of rows) totals.set(r.what, (totals.get(r.what) ?? 0) + Number(r.n));
      samples++;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      await client.end();
      // Average sessions in each state, largest first; plain idle (a pooled connection nobody uses) left out.
      return Object.fromEntries(
        [...totals]
          .filter(([what]) => what !== 'idle')
          .map(([what, n]) => [what, Math.round((n / Math.max(1, samples)) * 10) / 10] as const)
          .filter(([, n]) => n >= 0.1)
          .sort((a, b) => b[1] - a[1]),
      );
    },
  };
}

export const describeWaits = (w: WaitProfile) =>
  Object.entries(w)
    .map(([what, n]) => `${what} ${n}`)
    .join(', ');
