import { drivers } from './drivers.ts';
import { defineConformance } from './kit.ts';

/**
 * The kit's round-order property (rule 13) for every adapter, in a file of its own so that its
 * minutes overlap the other test files'.
 */
for (const driver of await drivers()) defineConformance(driver, ['round orders']);
