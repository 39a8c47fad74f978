/**
 * Tasks that take their turn per key, in this process: a task starts once every earlier task of any
 * of its keys has ended. The sign-in brake counts the failures recorded before an attempt; attempts
 * checked side by side would all see the same count and let a burst of guesses through.
 */
export class Turns {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(keys: readonly string[], task: () => Promise<T>): Promise<T> {
    const before = keys.map((key) => this.#tails.get(key) ?? Promise.resolve());
    let release!: () => void;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = Promise.all(before).then(() => done);
    for (const key of keys) this.#tails.set(key, tail);
    try {
      await Promise.all(before);
      return await task();
    } finally {
      release();
      // The last in line leaves no entry behind: a key's map entry lives only while attempts wait.
      void tail.then(() => {
        for (const key of keys) if (this.#tails.get(key) === tail) this.#tails.delete(key);
      });
    }
  }
}
