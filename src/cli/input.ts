import type { z } from 'zod';

/** The command line is wrong: the message says how, and the process exits 2. */
export class UsageError extends Error {}

/** Parses a command's input with its schema; a failure is a usage error naming the field. */
export const valid = <T>(schema: z.ZodType<T>, input: unknown): T => {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '));
  return parsed.data;
};
