import { createHash, timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';

/** A credential or key. Printing, logging or serialising it shows only "[redacted]". */
export class Secret {
  readonly #value: string;
  /** Its SHA-256, what `matches` compares against: hashed once, not on every call it checks. */
  #digest: Buffer | undefined;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  /** Constant-time comparison: the time taken says nothing about how much of `candidate` matched. */
  matches(candidate: string | undefined): boolean {
    const a = createHash('sha256').update(candidate ?? '').digest();
    this.#digest ??= createHash('sha256').update(this.#value).digest();
    return timingSafeEqual(a, this.#digest) && candidate !== undefined;
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
