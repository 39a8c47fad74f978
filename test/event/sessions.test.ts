import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { balanceOf, block, event, expectEvent, expectReconciled, ledgerState, sessionsOf } from './helpers.ts';

/** login / logout: no money moves; each is recorded once per transaction_id, feedback_data kept. */

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

describe('login', () => {
  it('answers R0 with the balance, records a login session with its feedback_data, and moves no money', async () => {
    await gw.fund('ev_login', { USD: '1000.50' });
    const before = await ledgerState(gw);
    const login = event('login', 'ev_login', undefined, { feedback: 'FEEDBACK-login-1' });
    await expectEvent(gw, login, 'R0', 1000.5);

    expect(await sessionsOf(gw, 'ev_login')).toEqual([{ external_id: login.transaction_id, kind: 'login', details: { feedback_data: 'FEEDBACK-login-1' } }]);
    const after = await ledgerState(gw);
    expect(after).toEqual({ ...before, player_sessions: before.player_sessions + 1 });
    expect(await balanceOf(gw, 'ev_login')).toBe(100050n);
    await expectReconciled(gw);
  });

  it('a login sent as application/json (as some event pages show) is accepted too', async () => {
    await gw.fund('ev_login_json', { USD: '7' });
    const login = event('login', 'ev_login_json');
    await expectEvent(gw, login, 'R0', 7, { contentType: 'application/json' });
    expect(await sessionsOf(gw, 'ev_login_json')).toHaveLength(1);
  });

  it('a zero balance is the number 0', async () => {
    await gw.fund('ev_login_zero', { USD: '0' });
    await expectEvent(gw, event('login', 'ev_login_zero'), 'R0', 0);
  });

  it('a repeated login event (same transaction_id) answers R0 again and is recorded once', async () => {
    await gw.fund('ev_login_twice', { USD: '25.25' });
    const login = event('login', 'ev_login_twice');
    await expectEvent(gw, login, 'R0', 25.25);
    await expectEvent(gw, login, 'R0', 25.25);
    expect(await sessionsOf(gw, 'ev_login_twice')).toEqual([{ external_id: login.transaction_id, kind: 'login', details: { feedback_data: 'TEST_FEEDBACK_DATA' } }]);

    // A new login event is a new session.
    const again = event('login', 'ev_login_twice');
    await expectEvent(gw, again, 'R0', 25.25);
    expect((await sessionsOf(gw, 'ev_login_twice')).map((s) => s.external_id)).toEqual([login.transaction_id, again.transaction_id]);
  });

  it("a login repeating another player's transaction_id is a conflict: R3, nothing recorded for it (rule 1)", async () => {
    await gw.fund('ev_login_mine', { USD: '3' });
    await gw.fund('ev_login_theirs', { USD: '4' });
    const login = event('login', 'ev_login_mine');
    await expectEvent(gw, login, 'R0', 3);
    const before = await ledgerState(gw);
    await expectEvent(gw, { ...login, user_id: 'ev_login_theirs' }, 'R3', 4);
    expect(await sessionsOf(gw, 'ev_login_theirs')).toEqual([]);
    expect(await ledgerState(gw)).toEqual(before);
    // The first player's own repeat is still a repeat.
    await expectEvent(gw, login, 'R0', 3);
  });

  it("a logout repeating a login's transaction_id is a conflict: R3, no logout recorded", async () => {
    await gw.fund('ev_login_kind', { USD: '6' });
    const login = event('login', 'ev_login_kind');
    await expectEvent(gw, login, 'R0', 6);
    await expectEvent(gw, { ...login, event_type: 'logout' }, 'R3', 6);
    expect((await sessionsOf(gw, 'ev_login_kind')).map((s) => s.kind)).toEqual(['login']);
  });

  it('a blocked player cannot log in: R3, no session recorded', async () => {
    await gw.fund('ev_login_blocked', { USD: '75' });
    await block(gw, 'ev_login_blocked');
    const before = await ledgerState(gw);
    const login = event('login', 'ev_login_blocked');
    await expectEvent(gw, login, 'R3', 75);
    expect(await sessionsOf(gw, 'ev_login_blocked')).toEqual([]);
    expect(await ledgerState(gw)).toEqual(before);
  });

  it('an unknown user is R3 and nothing is recorded', async () => {
    const before = await ledgerState(gw);
    await expectEvent(gw, event('login', 'ev_nobody'), 'R3');
    await expectEvent(gw, event('logout', 'ev_nobody'), 'R3');
    expect(await ledgerState(gw)).toEqual(before);
  });

  it('a player without a wallet in the instance currency (USD) is R3', async () => {
    await gw.fund('ev_login_eur', { EUR: '10' });
    const before = await ledgerState(gw);
    await expectEvent(gw, event('login', 'ev_login_eur'), 'R3');
    expect(await ledgerState(gw)).toEqual(before);
  });
});

describe('logout', () => {
  it('answers R0 with the balance and records a logout session', async () => {
    await gw.fund('ev_logout', { USD: '12.34' });
    const login = event('login', 'ev_logout');
    const logout = event('logout', 'ev_logout', undefined, { feedback: 'bye' });
    await expectEvent(gw, login, 'R0', 12.34);
    await expectEvent(gw, logout, 'R0', 12.34);
    await expectEvent(gw, logout, 'R0', 12.34); // a repeat is recorded once
    expect(await sessionsOf(gw, 'ev_logout')).toEqual([
      { external_id: login.transaction_id, kind: 'login', details: { feedback_data: 'TEST_FEEDBACK_DATA' } },
      { external_id: logout.transaction_id, kind: 'logout', details: { feedback_data: 'bye' } },
    ]);
    expect(await balanceOf(gw, 'ev_logout')).toBe(1234n);
    await expectReconciled(gw);
  });

  it('a blocked player can still log out (R0, recorded)', async () => {
    await gw.fund('ev_logout_blocked', { USD: '5' });
    await block(gw, 'ev_logout_blocked');
    const logout = event('logout', 'ev_logout_blocked');
    await expectEvent(gw, logout, 'R0', 5);
    expect((await sessionsOf(gw, 'ev_logout_blocked')).map((s) => s.kind)).toEqual(['logout']);
  });
});
