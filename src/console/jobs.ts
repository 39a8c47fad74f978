import { randomUUID } from 'node:crypto';
import type { Progress } from '../operators/actions.ts';
import type { SafeHtml } from './html.ts';

/** The long operations the console starts: they answer with a progress page rather than hold the request. */
export type JobKind = 'bulk replay' | 'import' | 'vendor reconciliation' | 'ledger check';

/** A long operation started from the console, as its page shows it. */
export interface ConsoleJob {
  id: string;
  kind: JobKind;
  /** What it works on: a provider, or the whole ledger. */
  subject: string;
  startedBy: string;
  startedAt: Date;
  finishedAt?: Date;
  /** Steps done and their total, when the operation counts them (a replay does; a ledger check does not). */
  done: number;
  total: number | undefined;
  state: 'running' | 'finished' | 'failed';
  /** What it did, drawn once it finished; `good` false marks a finished job whose news is bad (breaks, open findings). */
  report?: { html: SafeHtml; good: boolean };
  error?: string;
}

/** How many finished jobs a process remembers for their pages. */
const KEEP = 200;

/**
 * Long operations run beside the request that starts them: the page answers at once with a job page
 * that refreshes itself (no script needed) until the job ends. Jobs live in the gateway process that
 * runs them; their outcome is also in the audit trail (or the reconciliation runs), which every
 * process sees. Behind a load balancer, keep console sessions sticky to see a job's progress page.
 */
export class ConsoleJobs {
  readonly #jobs = new Map<string, ConsoleJob>();

  start<T>(
    what: { kind: JobKind; subject: string; startedBy: string },
    run: (progress: Progress) => Promise<T>,
    report: (result: T) => { html: SafeHtml; good: boolean },
  ): ConsoleJob {
    const job: ConsoleJob = { id: randomUUID(), ...what, startedAt: new Date(), done: 0, total: undefined, state: 'running' };
    this.#jobs.set(job.id, job);
    for (const old of [...this.#jobs.values()].filter((j) => j.state !== 'running').slice(0, Math.max(0, this.#jobs.size - KEEP))) this.#jobs.delete(old.id);
    void run((done, total) => {
      job.done = done;
      job.total = total;
    }).then(
      (result) => {
        job.report = report(result);
        job.state = 'finished';
        job.finishedAt = new Date();
      },
      (error: unknown) => {
        job.error = error instanceof Error ? error.message : String(error);
        job.state = 'failed';
        job.finishedAt = new Date();
      },
    );
    return job;
  }

  /**
   * The running job of this kind on this subject, or a new one: for an operation whose every run
   * does the same work (the ledger check), a second request joins the first instead of repeating it.
   */
  join<T>(
    what: { kind: JobKind; subject: string; startedBy: string },
    run: (progress: Progress) => Promise<T>,
    report: (result: T) => { html: SafeHtml; good: boolean },
  ): ConsoleJob {
    return this.running().find((j) => j.kind === what.kind && j.subject === what.subject) ?? this.start(what, run, report);
  }

  get(id: string): ConsoleJob | undefined {
    return this.#jobs.get(id);
  }

  /** Running jobs, for the overview. */
  running(): ConsoleJob[] {
    return [...this.#jobs.values()].filter((j) => j.state === 'running');
  }
}
