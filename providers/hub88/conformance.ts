import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { expect } from 'vitest';
import { asCurrency } from '../../src/money/currency.ts';
import { JsonNumber, parseJsonExact } from '../../src/money/json.ts';
import { parseAmount } from '../../src/money/minor.ts';
import { expectReading, expectRefusal, ITEMISED_SCENARIOS, NO_STAKE, REFUSAL, type Driver, type Kind, type Kit, type Money, type Request } from '../../test/conformance/kit.ts';
import { isStatus, type Status } from './codes.ts';
import { mintSessionToken } from './session.ts';
import { signBody, verifyBody } from './signature.ts';
import { fromHubUnits, toHubUnits } from './units.ts';

/**
 * The Hub88 dialect for the conformance kit: each instance has its own key pairs (Hub88's, which signs
 * the calls, and the casino's, which signs the answers), generated here at load; every call is
 * signed, every answer's signature is verified before it is read. A bet carries a session token the
 * driver mints as the casino's launch would. A kit win names no bet: the driver keeps, per instance,
 * the bets it built for each (player, round), and a win references the last of them it has not rolled
 * back when the win is first built (a win on a round with no such bet references a fresh uuid, which
 * the wallet does not find); a repeat of the win names the same bet.
 */

const CURRENCY = asCurrency('USD');
const OPERATOR_ID = 4242;
const BET = '/transaction/bet';
const WIN = '/transaction/win';
const ROLLBACK = '/transaction/rollback';

interface Instance {
  vendor: { publicKey: KeyObject; privateKey: KeyObject };
  casino: { publicKey: KeyObject; privateKey: KeyObject };
  tokenSecret: string;
}

const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 });

const INSTANCES: Readonly<Record<string, Instance>> = {
  'conformance-hub88-a': { vendor: rsa(), casino: rsa(), tokenSecret: 'conformance-hub88-token-secret-a-0123456789' },
  'conformance-hub88-b': { vendor: rsa(), casino: rsa(), tokenSecret: 'conformance-hub88-token-secret-b-0123456789' },
};
/** A key pair no instance knows: a forger's. */
const STRANGER = rsa();

const of = (instance: string) => INSTANCES[instance]!;
const otherThan = (instance: string) => Object.keys(INSTANCES).find((id) => id !== instance)!;
const pem = (key: KeyObject) => key.export({ type: key.type === 'private' ? 'pkcs8' : 'spki', format: 'pem' }) as string;

const KIND: Readonly<Record<Status, Kind>> = {
  RS_OK: 'ok',
  RS_ERROR_NOT_ENOUGH_MONEY: 'insufficient_funds',
  RS_ERROR_DUPLICATE_TRANSACTION: 'repeat',
  RS_ERROR_TRANSACTION_DOES_NOT_EXIST: 'not_found',
  RS_ERROR_INVALID_SIGNATURE: 'unauthorized',
  RS_ERROR_INVALID_PARTNER: 'unauthorized',
  RS_ERROR_TOKEN_EXPIRED: 'unauthorized',
  RS_ERROR_INVALID_TOKEN: 'refused',
  RS_ERROR_USER_DISABLED: 'refused',
  RS_ERROR_WRONG_CURRENCY: 'refused',
  RS_ERROR_TRANSACTION_ROLLED_BACK: 'refused',
  RS_ERROR_INVALID_GAME: 'refused',
  RS_ERROR_WRONG_SYNTAX: 'invalid',
  RS_ERROR_WRONG_TYPES: 'invalid',
  RS_ERROR_UNKNOWN: 'failed',
};

function minorOf(text: string) {
  const minor = parseAmount(text, CURRENCY);
  if (!minor.ok) throw new Error(`amount ${text}: ${minor.reason}`);
  return minor.value;
}

/** Decimal text in the driver's currency as Hub88 units (1/100000 of the unit), `plus` more: the digits Hub88 writes. */
const units = (text: string, plus = 0n) => String(toHubUnits(minorOf(text), CURRENCY) + plus);

/** The same, as a JSON number. */
const hub = (text: string, plus = 0n): unknown => JSON.rawJSON(units(text, plus));

/** A session token as the casino's launch mints it (ttl in seconds; negative: already expired). */
const token = (instance: string, player: string, ttl?: number) => mintSessionToken({ instance, tokenSecret: of(instance).tokenSecret }, player, CURRENCY, ttl);

/** The bets the driver built, per instance, player and round (oldest first), and the transactions it rolled back. */
const placed = new Map<string, string[]>();
const reversed = new Set<string>();
const roundKey = (instance: string, player: string, roundId: string) => JSON.stringify([instance, player, roundId]);

function remember(instance: string, m: Money): void {
  const key = roundKey(instance, m.player, m.roundId);
  placed.set(key, [...(placed.get(key) ?? []), m.txId]);
}

/** What each win the driver built named: its repeats name the same bet, as Hub88's retries send the same body. */
const references = new Map<string, string>();

/** The bet a win on this round pays: the last one built and not rolled back, or a uuid no bet has; the same for every copy of the win. */
function referenceFor(instance: string, win: Money): string {
  const key = JSON.stringify([instance, win.txId]);
  let reference = references.get(key);
  if (reference === undefined) {
    const bets = placed.get(roundKey(instance, win.player, win.roundId)) ?? [];
    reference = bets.findLast((id) => !reversed.has(JSON.stringify([instance, id]))) ?? randomUUID();
    references.set(key, reference);
  }
  return reference;
}

interface PostOptions {
  /** Who signs: the instance's Hub88 key by default; null sends no signature. */
  key?: KeyObject | null;
  /** Signs these bytes instead of the body sent (a body changed after signing). */
  signed?: string;
  signature?: string;
  /** The endpoint's path exactly as sent ('' for the provider's bare address). */
  path?: string;
}

/** POSTs `body` (a value, or JSON text as is) to the instance's endpoint, signed as Hub88 signs. */
async function post(instance: string, endpoint: string, body: unknown, o: PostOptions = {}): Promise<Request> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const key = o.key === undefined ? of(instance).vendor.privateKey : o.key;
  const signature = o.signature ?? (key ? await signBody(o.signed ?? text, key) : undefined);
  return {
    path: `/callbacks/${instance}${o.path ?? endpoint}`,
    headers: { 'content-type': 'application/json', ...(signature === undefined ? {} : { 'x-hub88-signature': signature }) },
    body: text,
  };
}

async function betBody(instance: string, m: Money, extra: Record<string, unknown> = {}, ttl?: number) {
  return {
    user: m.player,
    transaction_uuid: m.txId,
    supplier_transaction_id: `supplier-${m.txId}`,
    token: await token(instance, m.player, ttl),
    round: m.roundId,
    round_closed: false,
    request_uuid: randomUUID(),
    game_code: 'clt_dragonrising',
    currency: CURRENCY,
    bet: 'spin',
    amount: hub(m.amount),
    meta: { selection: 'lines-20', odds: JSON.rawJSON('2.5') },
    ...extra,
  };
}

async function winBody(instance: string, m: Money, reference: string, extra: Record<string, unknown> = {}, ttl?: number) {
  return { ...(await betBody(instance, m, {}, ttl)), reference_transaction_uuid: reference, ...extra };
}

/** A rollback of `target` with its own transaction_uuid `id`. */
async function rollbackBody(instance: string, player: string, id: string, target: string, roundId: string, ttl?: number) {
  reversed.add(JSON.stringify([instance, target]));
  return {
    user: player,
    transaction_uuid: id,
    reference_transaction_uuid: target,
    round: roundId,
    round_closed: false,
    request_uuid: randomUUID(),
    token: await token(instance, player, ttl),
    game_code: 'clt_dragonrising',
  };
}

const json = (value: unknown) => JSON.stringify(value);

export const driver: Driver = {
  dialect: 'hub88',
  currency: CURRENCY,
  instances: Object.entries(INSTANCES).map(([id, i]) => ({
    id,
    dialect: 'hub88',
    options: {
      operatorId: OPERATOR_ID,
      currency: CURRENCY,
      vendorPublicKey: pem(i.vendor.publicKey),
      casinoPrivateKey: pem(i.casino.privateKey),
      tokenSecret: i.tokenSecret,
      tokenTtlSeconds: 3600,
    },
  })),
  unreadable: 'invalid',

  login: (instance, player) => post(instance, '/user/info', { user: player, request_uuid: randomUUID() }),
  async bet(instance, m) {
    remember(instance, m);
    return post(instance, BET, await betBody(instance, m));
  },
  win: async (instance, m) => post(instance, WIN, await winBody(instance, m, m.pays ?? referenceFor(instance, m))),
  stakeFreeWin: async (instance, m) => post(instance, WIN, await winBody(instance, m, referenceFor(instance, m), { is_free: true })),
  rollback: async (instance, r) => post(instance, ROLLBACK, await rollbackBody(instance, r.player, r.id, r.txId, r.roundId)),

  hostile: {
    badCredentials: async (instance, m) => {
      const body = json(await betBody(instance, m));
      const forged = json({ ...(await betBody(instance, m)), amount: hub(m.amount, 1_000n) });
      return Promise.all([
        post(instance, BET, body, { key: STRANGER.privateKey }),
        post(instance, BET, body, { key: null }),
        // Signed, then changed on the way: one more cent.
        post(instance, BET, forged, { signed: body }),
        // Another instance's Hub88 key, and the instance's own casino key (a signature of the other side).
        post(instance, BET, body, { key: of(otherThan(instance)).vendor.privateKey }),
        post(instance, BET, body, { key: of(instance).casino.privateKey }),
        post(instance, BET, body, { signature: 'not a signature at all' }),
        post(instance, BET, body, { signature: Buffer.from('x'.repeat(256)).toString('base64') }),
        post(instance, BET, body, { signature: '' }),
      ]);
    },
    malformed: async (instance, m) => {
      const bet = await betBody(instance, m);
      const without = (key: string) => Object.fromEntries(Object.entries(bet).filter(([k]) => k !== key));
      return Promise.all([
        post(instance, BET, json(bet).slice(0, -5)),
        post(instance, BET, ''),
        post(instance, BET, '[]'),
        post(instance, BET, 'null'),
        post(instance, BET, '"bet"'),
        post(instance, BET, without('user')),
        post(instance, BET, without('amount')),
        post(instance, BET, without('transaction_uuid')),
        post(instance, BET, without('round')),
        post(instance, BET, without('token')),
        post(instance, BET, without('currency')),
        post(instance, BET, { ...bet, transaction_uuid: '' }),
        post(instance, BET, { ...bet, round: '   ' }),
        // Not a whole number of cents: refused, never rounded.
        post(instance, BET, { ...bet, amount: hub(m.amount, 1n) }),
        post(instance, BET, { ...bet, amount: hub(m.amount, 999n) }),
      ]);
    },
    negativeAmount: async (instance, m) => {
      const bet = await betBody(instance, m);
      return Promise.all([
        post(instance, BET, { ...bet, amount: JSON.rawJSON(`-${units(m.amount)}`) }),
        post(instance, BET, { ...bet, amount: JSON.rawJSON('-1') }),
        post(instance, BET, { ...bet, amount: JSON.rawJSON('-0') }),
      ]);
    },
    wrongTypes: async (instance, m) => {
      const bet = await betBody(instance, m);
      return Promise.all([
        post(instance, BET, { ...bet, amount: units(m.amount) }),
        post(instance, BET, { ...bet, amount: true }),
        post(instance, BET, { ...bet, amount: [bet.amount] }),
        post(instance, BET, { ...bet, amount: JSON.rawJSON(`${units(m.amount)}.5`) }),
        post(instance, BET, { ...bet, amount: JSON.rawJSON('1e6') }),
        post(instance, BET, { ...bet, user: 42 }),
        post(instance, BET, { ...bet, transaction_uuid: 8_000_001 }),
        post(instance, BET, { ...bet, round: {} }),
        post(instance, BET, { ...bet, token: 12345 }),
        post(instance, BET, { ...bet, currency: 840 }),
        post(instance, BET, { ...bet, is_free: 'yes' }),
        post(instance, BET, { ...bet, round_closed: 1 }),
        post(instance, BET, { ...bet, meta: 'a note' }),
      ]);
    },
    unknownCommand: async (instance, m) => {
      const body = json(await betBody(instance, m));
      return Promise.all(
        ['/transaction/jackpot', '/transaction', '/user/deposit', '', '/TRANSACTION/BET', '/transaction/bet/again'].map((path) => post(instance, BET, body, { path })),
      );
    },
    oversize: async (instance, m, limit) => [await post(instance, BET, await betBody(instance, m, { padding: 'x'.repeat(2 * limit) }))],
  },

  unstorable: {
    freeText: async (instance, m, text) => post(instance, BET, await betBody(instance, m, { meta: { note: `spin ${text}` } })),
    ids: async (instance, m, text) => {
      const odd = `${m.player}${text}`;
      return Promise.all([
        post(instance, BET, await betBody(instance, { ...m, txId: `${m.txId}${text}` })),
        post(instance, BET, { ...(await betBody(instance, m)), user: odd, token: await token(instance, odd) }),
        post(instance, BET, await betBody(instance, { ...m, roundId: `${m.roundId}${text}` })),
      ]);
    },
    // Which amount, which user is meant? Neither is taken.
    duplicateKey: async (instance, m) => {
      const body = json(await betBody(instance, m));
      return Promise.all([
        post(instance, BET, body.replace('"amount":', '"amount":1,"amount":')),
        post(instance, BET, body.replace('"user":', '"user":"someone-else","user":')),
      ]);
    },
  },

  /** The answer must be signed with the instance's casino key; then its status and balance are read. */
  async read(instance, answer) {
    const signature = answer.headers['x-hub88-signature'];
    if (!(await verifyBody(Buffer.from(answer.body, 'utf8'), signature, of(instance).casino.publicKey))) {
      throw new Error(`the answer is not signed with ${instance}'s casino key: ${answer.body}`);
    }
    if (!answer.contentType.startsWith('application/json')) throw new Error(`content type ${answer.contentType}`);
    const body = parseJsonExact(answer.body) as { status?: unknown; currency?: unknown; balance?: unknown };
    if (!isStatus(body.status)) throw new Error(`no known status in ${answer.body}`);
    const kind = KIND[body.status];
    const raw = body.balance;
    // RS_OK always says the balance; RS_ERROR_NOT_ENOUGH_MONEY must ("send the balance with it").
    if ((kind === 'ok' || kind === 'insufficient_funds') && !(raw instanceof JsonNumber)) throw new Error(`${body.status} without a balance: ${answer.body}`);
    if (!(raw instanceof JsonNumber) || body.currency !== CURRENCY) return { kind, text: answer.body };
    const balance = fromHubUnits(raw.source, CURRENCY);
    if (!balance.ok) throw new Error(`balance ${raw.source}: ${balance.reason}`);
    return { kind, balance: balance.value, text: answer.body };
  },

  unsupported: {
    'undecryptable body':
      'Hub88 calls are signed, not encrypted: the body travels as plain JSON, a bad signature is the bad-credentials scenario and a body that is not JSON the malformed one',
    ...Object.fromEntries(
      ITEMISED_SCENARIOS.map((name) => [
        name,
        'Hub88 does not itemise rounds: its bets and wins are whole transactions, a win names the one bet it pays, and there is no result or result change to check against bet lines',
      ]),
    ),
  },

  extras: {
    async 'a free bet debits nothing; its win is paid as a promotional win'(k) {
      const p = k.player('free-bet');
      await k.fund(p, 500n);
      // More than the player holds: the promotion pays the stake.
      const b: Money = { player: p, txId: k.tx(), roundId: k.round(), amount: k.amount(1_000n) };
      const free = { is_free: true, reward_uuid: `reward-${b.txId}` };
      expectReading(await k.send(k.a, post(k.a, BET, await betBody(k.a, b, free))), 'ok', 500n);
      expect(await k.recorded(k.a, b.txId)).toEqual({ kind: 'debit', status: 'applied', amount: 0n });
      const { details } = await k.gw.gateway.db
        .selectFrom('provider_transactions')
        .select('details')
        .where('provider_id', '=', k.a)
        .where('external_id', '=', b.txId)
        .executeTakeFirstOrThrow();
      expect(details).toMatchObject({ is_free: true, free_bet_amount: '1000', reward_uuid: free.reward_uuid });
      const w: Money = { ...b, txId: k.tx(), amount: k.amount(2_500n) };
      const win = await winBody(k.a, w, b.txId, free);
      expectReading(await k.send(k.a, post(k.a, WIN, win)), 'ok', 3_000n);
      expectReading(await k.send(k.a, post(k.a, WIN, win)), 'ok', 3_000n);
      expect(await k.balance(p)).toBe(3_000n);
      expect(await k.moves(p)).toEqual(['deposit +500', 'promo_win +2500']);
    },

    async 'a closing win closes its round: a later bet on it, a rollback of its bets and a win naming none of them are refused'(k) {
      const p = k.player('closing-win');
      await k.fund(p, 10_000n);
      const roundId = k.round();
      const b1: Money = { player: p, txId: k.tx(), roundId, amount: k.amount(1_000n) };
      const b2: Money = { player: p, txId: k.tx(), roundId, amount: k.amount(500n) };
      expectReading(await k.send(k.a, post(k.a, BET, await betBody(k.a, b1))), 'ok', 9_000n);
      expectReading(await k.send(k.a, post(k.a, BET, await betBody(k.a, b2))), 'ok', 8_500n);
      const w: Money = { player: p, txId: k.tx(), roundId, amount: k.amount(3_000n) };
      expectReading(await k.send(k.a, post(k.a, WIN, await winBody(k.a, w, b1.txId, { round_closed: true }))), 'ok', 11_500n);
      const before = await accounts(k);
      const late: Money = { player: p, txId: k.tx(), roundId, amount: k.amount(200n) };
      expectRefusal(await k.send(k.a, post(k.a, BET, await betBody(k.a, late))), REFUSAL, 11_500n);
      expectRefusal(await k.send(k.a, post(k.a, ROLLBACK, await rollbackBody(k.a, p, k.tx(), b2.txId, roundId))), REFUSAL, 11_500n);
      // A win on the closed round that names no bet of it pays nothing.
      expectRefusal(await k.send(k.a, post(k.a, WIN, await winBody(k.a, { ...w, txId: k.tx() }, k.tx()))), NO_STAKE, 11_500n);
      expect(await accounts(k)).toEqual(before);
      expect((await k.refusals(p)).map((r) => r.split(' ')[0])).toEqual(['round_settled', 'line_closed', 'no_stake']);
      // A win for a bet of the round that still stands, sent before the closing one and delivered after
      // it (a retry), is paid: order does not change money (rule 13).
      expectReading(await k.send(k.a, post(k.a, WIN, await winBody(k.a, { ...w, txId: k.tx(), amount: k.amount(700n) }, b2.txId))), 'ok', 12_200n);
      expect(await k.moves(p)).toEqual(['deposit +10000', 'bet -1000', 'bet -500', 'win +3000', 'win +700']);
    },

    async "a bet's round_closed closes nothing"(k) {
      const p = k.player('bet-closed');
      await k.fund(p, 10_000n);
      const roundId = k.round();
      const b1: Money = { player: p, txId: k.tx(), roundId, amount: k.amount(1_000n) };
      const b2: Money = { player: p, txId: k.tx(), roundId, amount: k.amount(1_000n) };
      expectReading(await k.send(k.a, post(k.a, BET, await betBody(k.a, b1, { round_closed: true }))), 'ok', 9_000n);
      expectReading(await k.send(k.a, post(k.a, BET, await betBody(k.a, b2))), 'ok', 8_000n);
      expectReading(await k.send(k.a, post(k.a, WIN, await winBody(k.a, { ...b1, txId: k.tx(), amount: k.amount(4_000n) }, b2.txId))), 'ok', 12_000n);
      expect(await k.moves(p)).toEqual(['deposit +10000', 'bet -1000', 'bet -1000', 'win +4000']);
    },

    async "an expired session token: the bet is refused, the round's win and rollback are still paid"(k) {
      const p = k.player('expired-token');
      await k.fund(p, 10_000n);
      const roundId = k.round();
      const b1: Money = { player: p, txId: k.tx(), roundId, amount: k.amount(1_000n) };
      const b2: Money = { player: p, txId: k.tx(), roundId, amount: k.amount(500n) };
      expectReading(await k.send(k.a, post(k.a, BET, await betBody(k.a, b1))), 'ok', 9_000n);
      expectReading(await k.send(k.a, post(k.a, BET, await betBody(k.a, b2))), 'ok', 8_500n);
      // The session ends.
      const before = await k.ledger();
      const b3: Money = { player: p, txId: k.tx(), roundId, amount: k.amount(700n) };
      const refused = await k.send(k.a, post(k.a, BET, await betBody(k.a, b3, {}, -60)));
      expectReading(refused, 'unauthorized');
      expect(refused.text).toContain('RS_ERROR_TOKEN_EXPIRED');
      expect(await k.ledger()).toEqual(before);
      const balance = await k.send(k.a, post(k.a, '/user/balance', { user: p, token: await token(k.a, p, -60), request_uuid: randomUUID(), game_code: 'clt_dragonrising' }));
      expect(balance.text).toContain('RS_ERROR_TOKEN_EXPIRED');
      // What the round owes is paid whatever the token says.
      expectReading(await k.send(k.a, post(k.a, WIN, await winBody(k.a, { player: p, txId: k.tx(), roundId, amount: k.amount(2_000n) }, b1.txId, {}, -60))), 'ok', 10_500n);
      expectReading(await k.send(k.a, post(k.a, ROLLBACK, await rollbackBody(k.a, p, k.tx(), b2.txId, roundId, -60))), 'ok', 11_000n);
      // A fresh session's bet goes through.
      expectReading(await k.send(k.a, post(k.a, BET, await betBody(k.a, b3))), 'ok', 10_300n);
      expect(await k.moves(p)).toEqual(['deposit +10000', 'bet -1000', 'bet -500', 'win +2000', 'bet_refund +500', 'bet -700']);
    },

    async "a rollback's transaction_uuid reused for another transaction is a duplicate transaction"(k) {
      const p = k.player('rollback-id');
      await k.fund(p, 10_000n);
      const b1: Money = { player: p, txId: k.tx(), roundId: k.round(), amount: k.amount(1_000n) };
      const b2: Money = { player: p, txId: k.tx(), roundId: k.round(), amount: k.amount(2_000n) };
      expectReading(await k.send(k.a, post(k.a, BET, await betBody(k.a, b1))), 'ok', 9_000n);
      expectReading(await k.send(k.a, post(k.a, BET, await betBody(k.a, b2))), 'ok', 7_000n);
      const id = k.tx();
      expectReading(await k.send(k.a, post(k.a, ROLLBACK, await rollbackBody(k.a, p, id, b1.txId, b1.roundId))), 'ok', 8_000n);
      const reused = await k.send(k.a, post(k.a, ROLLBACK, await rollbackBody(k.a, p, id, b2.txId, b2.roundId)));
      expectReading(reused, 'repeat', 8_000n);
      expect(reused.text).toContain('RS_ERROR_DUPLICATE_TRANSACTION');
      // Its own retry is a repeat, answered as done.
      expectReading(await k.send(k.a, post(k.a, ROLLBACK, await rollbackBody(k.a, p, id, b1.txId, b1.roundId))), 'ok', 8_000n);
      expect(await k.balance(p)).toBe(8_000n);
      expectReading(await k.send(k.a, post(k.a, ROLLBACK, await rollbackBody(k.a, p, k.tx(), b2.txId, b2.roundId))), 'ok', 10_000n);
      expect(await k.moves(p)).toEqual(['deposit +10000', 'bet -1000', 'bet -2000', 'bet_refund +1000', 'bet_refund +2000']);
    },

    async 'an amount that is not a whole number of minor units is refused, never rounded'(k) {
      const p = k.player('sub-minor');
      await k.fund(p, 10_000n);
      const b: Money = { player: p, txId: k.tx(), roundId: k.round(), amount: k.amount(1_000n) };
      const before = await k.ledger();
      for (const plus of [1n, 500n, 999n]) {
        const refused = await k.send(k.a, post(k.a, BET, await betBody(k.a, b, { amount: hub(b.amount, plus) })));
        expectReading(refused, 'invalid');
        expect(refused.text).toContain('RS_ERROR_WRONG_TYPES');
      }
      // 0.001 cents won: refused too.
      const win = await winBody(k.a, { ...b, txId: k.tx(), amount: '0' }, b.txId, { amount: JSON.rawJSON('1') });
      expectReading(await k.send(k.a, post(k.a, WIN, win)), 'invalid');
      expect(await k.ledger()).toEqual(before);
      // 10.00 USD is 1000000 hub units, and the balance comes back the same way.
      const ok = await k.send(k.a, post(k.a, BET, await betBody(k.a, b)));
      expectReading(ok, 'ok', 9_000n);
      expect(ok.text).toContain('"balance":9000000');
      expect(await k.moves(p)).toEqual(['deposit +10000', 'bet -1000']);
    },
  },
};

/** The balances of every account: what a refusal recorded (the refused bet, the round's refusals) aside, no money moved. */
const accounts = async (k: Kit) => ((await k.ledger()) as { accounts: string[] }).accounts;
