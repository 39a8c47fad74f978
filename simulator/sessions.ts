import type { SessionReport } from './session.ts';

/** The sessions a vendor is playing: started in the background, awaited by `idle()`, stopped by `stop()`. */
export class Sessions {
  readonly reports: SessionReport[] = [];
  readonly #running = new Set<Promise<SessionReport>>();
  readonly #stop = new AbortController();
  readonly #prefix: string;
  #next = 0;

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** Aborted when the vendor shuts down: sessions stop, calls in flight are cut. */
  get signal(): AbortSignal {
    return this.#stop.signal;
  }

  nextId(): string {
    return `${this.#prefix}-s${++this.#next}`;
  }

  running(): number {
    return this.#running.size;
  }

  run(play: () => Promise<SessionReport>): Promise<SessionReport> {
    const session = play().then((report) => {
      this.reports.push(report);
      return report;
    });
    this.#running.add(session);
    const forget = () => this.#running.delete(session);
    session.then(forget, forget);
    return session;
  }

  /** Resolves once no session is running (sessions started meanwhile included). */
  async idle(): Promise<void> {
    while (this.#running.size) await Promise.allSettled([...this.#running]);
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.idle();
  }
}
