import type { Dialect } from '../src/gateway/contract.ts';
import { commandDialect } from './command/adapter.ts';
import { eventDialect } from './event/adapter.ts';
import { hub88Dialect } from './hub88/adapter.ts';

/**
 * Every dialect Croupier speaks. Adding a vendor dialect is its folder plus its line here (the
 * import above and the entry below; `npm run new-provider` writes both).
 */
export const dialects: readonly Dialect[] = [
  commandDialect,
  eventDialect,
  hub88Dialect,
];
