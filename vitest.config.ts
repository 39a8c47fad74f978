import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/** The files that take longest (20-75 s each): started first, so that the rest of the suite runs beside them rather than after. */
const SLOW = [
  'test/conformance/orders.test.ts',
  'test/cli/cli.test.ts',
  'test/conformance/adapters.test.ts',
  'test/walk/fresh-clone.test.ts',
  'test/providers/stamp.test.ts',
];

class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = SLOW.findIndex((slow) => f.moduleId.endsWith(slow));
      return i < 0 ? SLOW.length : i;
    };
    return sorted.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map(({ f }) => f);
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    // A worker process runs its files in turn, its modules loaded once: about 80 s of a ~490 s run
    // on the 2-core machine went to starting a process and importing the gateway per file. Files
    // keep no state between them (each makes its own database, Redis prefix and gateways, and closes
    // them); what a module remembers must be keyed so that it cannot meet another file's (the
    // conformance kit gives each kit its own range of ids for that reason).
    isolate: false,
    // Two files at a time, each worker loading the code once: vitest's default on two cores is one
    // (cores - 1), and most of a file's time is spent waiting on Postgres, Redis, a gateway or a
    // restarted server, not on a core. 262-297 s -> 173 s on the ninth session's host; 309 s and
    // 416 s with two and four busy processes beside it, every test passing. Each file has its own
    // database, Redis prefix and OS-chosen ports; at most 37 connections to Postgres were open at
    // once (100 allowed).
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    sequence: { sequencer: SlowFirst },
  },
});
