import { Mutex, Semaphore } from 'redis-semaphore';

/**
 * redis-semaphore refreshes a held lock from a timer, and a refresh that fails because Redis is
 * down (ioredis: "Stream isn't writeable") rejects inside that timer, where nobody can catch it: an
 * unhandled rejection that ends the process (found by the Redis restart fault test). These
 * subclasses, through the library's own extension point, count a refresh that cannot reach Redis as
 * a lost lock instead, so the holder's `onLockLost` runs (Postgres still serialises the wallet) and
 * the process carries on.
 */
export class SteadyMutex extends Mutex {
  protected override async _refresh(): Promise<boolean> {
    try {
      return await super._refresh();
    } catch {
      return false;
    }
  }
}

export class SteadySemaphore extends Semaphore {
  protected override async _refresh(): Promise<boolean> {
    try {
      return await super._refresh();
    } catch {
      return false;
    }
  }
}
