import { OWED, type Outcome, type WalletOperation } from '../wallet/types.ts';
import type { Member, Within } from '../wallet/wallet.ts';
import type { Call, ChainingWallet } from './player-lock.ts';

/** A call that could not be started in time for its answer to reach the vendor before its limit. */
export class TooLate extends Error {}

export interface AdmissionObserver {
  /** How long a call waited for a slot, and whether it got one or was let go as too late. */
  admitted(seconds: number, result: 'admitted' | 'late', owed: boolean): void;
}

interface Waiter {
  deadline: number;
  start: () => void;
  late: () => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Admission by deadline in front of the wallet: at most `slots` operations run at once
 * (WALLET_OPS_PER_CONNECTION per connection the wallet may use: admitted, an operation waits at most
 * for one of those, in the wallet's line, never inside a transaction), the others wait here,
 * owed money (wins, results, cancels) ahead of new bets, each for as long as it can still be answered
 * in time. A call is let go, answered with the dialect's failure, only when it cannot be: when what
 * is left of its time is less than an operation takes (a moving average of how long they take).
 * Under overload the gateway then keeps doing the work it can finish, instead of refusing calls at a
 * fixed wait that still had time, or answering after the vendor gave up.
 */
export class Admission {
  #free: number;
  readonly #owed: Waiter[] = [];
  readonly #fresh: Waiter[] = [];
  readonly #observer: AdmissionObserver;
  /** Moving average of an operation's time from its start, in ms. */
  #serviceMs = 5;

  constructor(slots: number, observer: AdmissionObserver) {
    this.#free = slots;
    this.#observer = observer;
  }

  /** Runs `work` once a slot is free, or throws TooLate when it could not finish before `deadline` (ms, performance.now()). */
  async run<T>(owed: boolean, deadline: number, work: () => Promise<T>): Promise<T> {
    const asked = performance.now();
    await this.#enter(owed, deadline);
    this.#observer.admitted((performance.now() - asked) / 1000, 'admitted', owed);
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.#serviceMs += ((performance.now() - started) - this.#serviceMs) / 20;
      this.#leave();
    }
  }

  /** What a call still needs once started, for deciding whether it can make its deadline. */
  get serviceMs(): number {
    return this.#serviceMs;
  }

  #enter(owed: boolean, deadline: number): Promise<void> {
    const queue = owed ? this.#owed : this.#fresh;
    // A fresh call does not pass anyone waiting; an owed one passes the fresh ones only.
    if (this.#free > 0 && this.#owed.length === 0 && (owed || this.#fresh.length === 0)) {
      this.#free--;
      return Promise.resolve();
    }
    const asked = performance.now();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        deadline,
        start: resolve,
        late: () => {
          this.#observer.admitted((performance.now() - asked) / 1000, 'late', owed);
          reject(new TooLate(`no slot to start in time (waited ${Math.round(performance.now() - asked)} ms)`));
        },
        timer: undefined,
      };
      const patience = deadline - performance.now() - this.#serviceMs;
      if (Number.isFinite(patience)) {
        waiter.timer = setTimeout(() => {
          const at = queue.indexOf(waiter);
          if (at >= 0) queue.splice(at, 1);
          waiter.late();
        }, Math.max(0, patience));
      }
      queue.push(waiter);
    });
  }

  #leave(): void {
    this.#free++;
    while (this.#free > 0) {
      const next = this.#owed.shift() ?? this.#fresh.shift();
      if (!next) return;
      clearTimeout(next.timer);
      if (performance.now() + this.#serviceMs > next.deadline) {
        next.late();
        continue;
      }
      this.#free--;
      next.start();
    }
  }
}

/** The wallet behind admission: a slot for each operation, taken in the order above. */
export class AdmittedWallet implements ChainingWallet {
  readonly #wallet: ChainingWallet;
  readonly #admission: Admission;

  constructor(wallet: ChainingWallet, admission: Admission) {
    this.#wallet = wallet;
    this.#admission = admission;
  }

  execute(op: WalletOperation, within?: undefined, call?: Call): Promise<Outcome>;
  execute<T>(op: WalletOperation, within: Within<T>, call?: Call): Promise<T>;
  execute<T>(op: WalletOperation, within?: Within<T>, call?: Call): Promise<Outcome | T> {
    const work = (): Promise<Outcome | T> => (within ? this.#wallet.execute(op, within, call) : this.#wallet.execute(op, undefined, call));
    return this.#admission.run(OWED.has(op.op), call?.deadline ?? Number.POSITIVE_INFINITY, work);
  }

  /** Several operations in one transaction take one slot: owed if any of them is, by the earliest deadline. */
  executeAll(members: readonly Member[], call?: Call): Promise<PromiseSettledResult<unknown>[]> {
    const owed = members.some((m) => OWED.has(m.op.op));
    return this.#admission.run(owed, call?.deadline ?? Number.POSITIVE_INFINITY, () => this.#wallet.executeAll(members, call));
  }
}
