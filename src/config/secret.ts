import { createHash, timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';

/** A credential or key. Printing, logging or serialising it shows only "[redacted]". */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  /** Constant-time comparison: the time taken says nothing about how much of `candidate` matched. */
  matches(candidate: string | undefined): boolean {
    const a = createHash('sha256').update(candidate ?? '').digest();
    const b = createHash('sha256').update(this.#value).digest();
    return timingSafeEqual(a, b) && candidate !== undefined;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return 'Secret([redacted])';
  }
}
