import type { Dialect } from '../src/gateway/contract.ts';
import { commandDialect } from './command/adapter.ts';
import { eventDialect } from './event/adapter.ts';

/** Every dialect Croupier speaks. Adding a vendor dialect is one line here plus its folder. */
export const dialects: readonly Dialect[] = [commandDialect, eventDialect];
