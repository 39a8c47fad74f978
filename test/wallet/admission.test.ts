import { describe, expect, it } from 'vitest';
import { Admission, TooLate } from '../../src/locks/admission.ts';

/**
 * Admission by deadline (src/locks/admission.ts): at most its slots run at once; the others wait,
 * owed money ahead of new bets, each for as long as it can still be answered in time, and no longer.
 */

const quiet = { admitted: () => {} };

/** Work that holds its slot until released, and says when it started. */
function held(log: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  return {
    work: async () => {
      log.push(name);
      await done;
      return name;
    },
    release,
  };
}

const far = () => performance.now() + 60_000;
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('admission', () => {
  it('runs at most its slots at once; the others start as slots free, in arrival order', async () => {
    const admission = new Admission(2, quiet);
    const log: string[] = [];
    const calls = ['a', 'b', 'c', 'd'].map((name) => held(log, name));
    const running = calls.map((c) => admission.run(false, far(), c.work));
    await tick();
    expect(log).toEqual(['a', 'b']);
    calls[1]!.release();
    await tick();
    expect(log).toEqual(['a', 'b', 'c']);
    calls[0]!.release();
    calls[2]!.release();
    calls[3]!.release();
    expect(await Promise.all(running)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('lets owed money (wins, results, cancels) go ahead of new bets waiting for a slot', async () => {
    const admission = new Admission(1, quiet);
    const log: string[] = [];
    const first = held(log, 'bet-1');
    const bet2 = held(log, 'bet-2');
    const win = held(log, 'win');
    const cancel = held(log, 'cancel');
    const running = [admission.run(false, far(), first.work), admission.run(false, far(), bet2.work), admission.run(true, far(), win.work), admission.run(true, far(), cancel.work)];
    await tick();
    first.release();
    await tick();
    win.release();
    await tick();
    cancel.release();
    await tick();
    bet2.release();
    await Promise.all(running);
    expect(log).toEqual(['bet-1', 'win', 'cancel', 'bet-2']);
  });

  it('an owed call arriving at a free slot does not wait for bets already waiting, a bet does', async () => {
    const admission = new Admission(1, quiet);
    const log: string[] = [];
    const first = held(log, 'first');
    const bet = held(log, 'bet');
    const running = [admission.run(false, far(), first.work), admission.run(false, far(), bet.work)];
    await tick();
    first.release();
    await tick();
    expect(log).toEqual(['first', 'bet']);
    bet.release();
    await Promise.all(running);
  });

  it('keeps a call waiting while it can still be answered in time, and lets it go only when it cannot', async () => {
    const admission = new Admission(1, quiet);
    const log: string[] = [];
    const blocker = held(log, 'blocker');
    const running = admission.run(false, far(), blocker.work);
    await tick();
    const asked = performance.now();
    const late = admission.run(false, performance.now() + 80, held(log, 'late').work);
    await expect(late).rejects.toBeInstanceOf(TooLate);
    // Not before its time was up (less the few ms an operation takes): it could have been started until then.
    expect(performance.now() - asked).toBeGreaterThanOrEqual(80 - admission.serviceMs - 5);
    expect(log).toEqual(['blocker']);
    blocker.release();
    await running;
  });

  it('does not start a call whose time ran out while it waited; the next in line gets the slot', async () => {
    const admission = new Admission(1, quiet);
    const log: string[] = [];
    const blocker = held(log, 'blocker');
    const running = admission.run(false, far(), blocker.work);
    await tick();
    const doomed = admission.run(false, performance.now() + 30, held(log, 'doomed').work);
    const patient = held(log, 'patient');
    const waits = admission.run(false, far(), patient.work);
    await expect(doomed).rejects.toBeInstanceOf(TooLate);
    blocker.release();
    await running;
    await tick();
    patient.release();
    expect(await waits).toBe('patient');
    expect(log).toEqual(['blocker', 'patient']);
  });

  it('frees the slot of a call that failed', async () => {
    const admission = new Admission(1, quiet);
    await expect(admission.run(false, far(), () => Promise.reject(new Error('database away')))).rejects.toThrow('database away');
    expect(await admission.run(false, far(), async () => 'next')).toBe('next');
  });
});
