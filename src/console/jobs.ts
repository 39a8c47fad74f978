import { randomUUID } from 'node:crypto';
import type { Progress, ReplaySummary } from '../operators/actions.ts';

/** A long operation started from the console (a bulk replay, an import), as its page shows it. */
export interface ConsoleJob {
  id: string;
  kind: 'bulk replay' | 'import';
  provider: string;
  startedBy: string;
  startedAt: Date;
  done: number;
  total: number | undefined;
  state: 'running' | 'finished' | 'failed';
  result?: ReplaySummary;
  error?: string;
}

/** How many finished jobs a process remembers for their pages. */
const KEEP = 200;

/**
 * Long operations run beside the request that starts them: the page answers at once with a job page
 * that refreshes itself (no script needed) until the job ends. Jobs live in the gateway process that
 * runs them; their outcome is also in the audit trail, which every process sees. Behind a load
 * balancer, keep console sessions sticky to see a job's progress page.
 */
export class ConsoleJobs {
  readonly #jobs = new Map<string, ConsoleJob>();

  start(kind: ConsoleJob['kind'], provider: string, startedBy: string, run: (progress: Progress) => Promise<ReplaySummary>): ConsoleJob {
    const job: ConsoleJob = { id: randomUUID(), kind, provider, startedBy, startedAt: new Date(), done: 0, total: undefined, state: 'running' };
    this.#jobs.set(job.id, job);
    for (const old of [...this.#jobs.values()].filter((j) => j.state !== 'running').slice(0, Math.max(0, this.#jobs.size - KEEP))) this.#jobs.delete(old.id);
    void run((done, total) => {
      job.done = done;
      job.total = total;
    }).then(
      (result) => {
        job.result = result;
        job.done = result.count;
        job.state = 'finished';
      },
      (error: unknown) => {
        job.error = error instanceof Error ? error.message : String(error);
        job.state = 'failed';
      },
    );
    return job;
  }

  get(id: string): ConsoleJob | undefined {
    return this.#jobs.get(id);
  }

  /** Running jobs, for the overview. */
  running(): ConsoleJob[] {
    return [...this.#jobs.values()].filter((j) => j.state === 'running');
  }
}
