import { drivers } from './drivers.ts';
import { defineConformance, SCENARIOS } from './kit.ts';

/** Certifies every adapter against the kit's scenarios (the round-order property runs in orders.test.ts). */
for (const driver of await drivers()) {
  defineConformance(
    driver,
    SCENARIOS.filter((name) => name !== 'round orders'),
  );
}
