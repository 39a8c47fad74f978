import { asCurrency, isCurrency } from '../money/currency.ts';
import { formatAmountFixed, type Minor } from '../money/minor.ts';
import type { VendorRecord } from '../gateway/vendor-api.ts';

/** What the ledger holds of one vendor transaction (a provider transaction), for the comparison. */
export interface LedgerTransaction {
  id: string;
  kind: 'debit' | 'credit' | 'refund' | 'adjust';
  /** The vendor's user code of the player (provider_users), else the casino's player code. */
  user: string;
  player: string;
  round: string | null;
  amount: Minor;
  currency: string;
  applied: boolean;
  /** Rolled back (cancelled) afterwards, with money moving back. */
  rolledBack: boolean;
  at: Date;
}

/**
 * Money the ledger moved back, for matching the vendor's cancel rows: a rollback of a transaction, or
 * a cancel of bet lines (whose refund is its own transaction: `target` is then the cancel's id).
 */
export interface LedgerRollback {
  target: string;
  round: string | null;
  user: string;
  player: string;
  amount: Minor;
  currency: string;
  at: Date;
}

export type FindingKind = 'missing_at_casino' | 'missing_at_vendor' | 'amount_mismatch' | 'player_mismatch' | 'round_mismatch' | 'status_mismatch' | 'currency_mismatch' | 'stuck_round';

export interface Finding {
  /** What the finding is about: a transaction id, a player's round, or a cancel's user, round and amount. */
  key: string;
  kind: FindingKind;
  at: Date;
  player: string | null;
  currency: string | null;
  detail: string;
  vendor?: unknown;
  ledger?: unknown;
}

export interface Comparison {
  matched: number;
  findings: Finding[];
}

const VENDOR_KIND = { bet: 'debit', win: 'credit' } as const;

/** An amount as finance reads it and types it back into an adjustment: in its currency's units. */
export const amountText = (value: Minor, currency: string | null): string =>
  currency !== null && isCurrency(currency) ? `${formatAmountFixed(value, asCurrency(currency))} ${currency}` : `${value} (minor units)`;
const json = (v: object) => JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x))) as unknown;

/**
 * Compares what a vendor says happened in [from, to) with what the ledger holds. Both sides are read
 * with a margin around the period (a transaction stamped 10:59:59.9 by the vendor may be 11:00:00.1 in
 * the ledger), and a finding is reported only when its own time falls inside the period: the same
 * period compared twice gives the same findings, and neighbouring periods never report one twice.
 *
 * - missing_at_casino: the vendor has a transaction the wallet never applied (a lost win is money
 *   owed to a player);
 * - missing_at_vendor: the wallet moved money the vendor does not list;
 * - amount / player / round mismatch: the same id, different facts (an id the vendor lists more than
 *   once is an amount mismatch: the vendor counts the money each time, the wallet moved it once);
 * - status_mismatch: the vendor shows a cancel the wallet did not apply, or the wallet rolled back
 *   what the vendor still counts;
 * - currency_mismatch: the vendor lists, in the records' currency, a transaction (or a cancel) the
 *   wallet moved in another one. An export is in the currency the operator names: one named wrongly
 *   would otherwise show every such transaction as never applied, and paying it would pay it twice.
 * `ledger` and `rollbacks` hold every currency: the records are compared with those in theirs, and
 * the others are only looked up, never reported missing at the vendor (another export lists them).
 * A cancel of nothing (a lost round's win of 0, rolled back) moves no money on either side, and
 * vendors differ on whether they list it: it is matched when both sides have it and ignored when only
 * one does.
 */
export function compare(
  vendor: readonly VendorRecord[],
  ledger: readonly LedgerTransaction[],
  rollbacks: readonly LedgerRollback[],
  period: { from: Date; to: Date },
  /** The casino's player of each vendor user code, and the vendor account's currency: whose wallet a vendor-only record concerns. */
  owner: { players: ReadonlyMap<string, string>; currency: string | null },
): Comparison {
  const inside = (at: Date) => at >= period.from && at < period.to;
  /** A vendor's user code as finance reads it: with the casino's player, when the casino knows it. */
  const whose = (user: string) => {
    const player = owner.players.get(user);
    return player === undefined || player === user ? `user ${user}` : `user ${user} (player ${player})`;
  };
  const findings: Finding[] = [];
  let matched = 0;
  const theirs = (t: { currency: string }) => owner.currency === null || t.currency === owner.currency;
  const byId = new Map(ledger.map((t) => [t.id, t]));
  const listed = new Set<string>();

  // An id listed more than once is one transaction the vendor counts as often as it lists it.
  const listings = new Map<string, VendorRecord[]>();
  for (const r of vendor) if (r.kind !== 'cancel') listings.set(r.id, [...(listings.get(r.id) ?? []), r]);

  for (const [id, copies] of listings) {
    const r = copies[0]!;
    listed.add(id);
    const t = byId.get(r.id);
    const at = t?.at ?? r.at;
    if (!copies.some((c) => inside(c.at)) && !(t && inside(t.at))) continue;
    const base = { key: r.id, at, player: t?.player ?? owner.players.get(r.user) ?? null, currency: t?.currency ?? owner.currency, vendor: json(copies.length > 1 ? copies : r), ...(t ? { ledger: json(t) } : {}) };
    if (t && !theirs(t)) {
      findings.push({ ...base, kind: 'currency_mismatch', detail: `the vendor lists ${r.kind} ${r.id} in ${owner.currency}; the wallet ${t.applied ? `moved it (${amountText(t.amount, t.currency)})` : `refused it in ${t.currency}`}` });
      continue;
    }
    if (!t || !t.applied || t.kind !== VENDOR_KIND[r.kind as 'bet' | 'win']) {
      const times = copies.length > 1 ? ` (listed ${copies.length} times)` : '';
      findings.push({ ...base, kind: 'missing_at_casino', detail: t ? `the vendor lists ${r.kind} ${r.id}${times}; the wallet ${t.applied ? `has it as a ${t.kind}` : 'refused it'}` : `the vendor lists ${r.kind} ${r.id} of ${amountText(r.amount, owner.currency)} for ${whose(r.user)}${times}; the wallet never applied it` });
      continue;
    }
    let ok = true;
    if (copies.length > 1) {
      const total = copies.reduce((sum, c) => sum + c.amount, 0n);
      findings.push({ ...base, kind: 'amount_mismatch', detail: `${r.kind} ${r.id}: the vendor lists it ${copies.length} times (${amountText(total, t.currency)} in all), the wallet moved ${amountText(t.amount, t.currency)} once` });
      ok = false;
    } else if (t.amount !== r.amount) {
      findings.push({ ...base, kind: 'amount_mismatch', detail: `${r.kind} ${r.id}: the vendor says ${amountText(r.amount, t.currency)}, the wallet moved ${amountText(t.amount, t.currency)}` });
      ok = false;
    }
    if (t.user !== r.user) {
      findings.push({ ...base, kind: 'player_mismatch', detail: `${r.kind} ${r.id}: the vendor says user ${r.user}, the wallet's player is ${t.player} (user ${t.user})` });
      ok = false;
    }
    if (r.round !== undefined && t.round !== null && t.round !== r.round) {
      findings.push({ ...base, kind: 'round_mismatch', detail: `${r.kind} ${r.id}: the vendor says round ${r.round}, the wallet's is ${t.round}` });
      ok = false;
    }
    if (t.rolledBack && t.amount !== 0n && !vendor.some((c) => c.kind === 'cancel' && c.user === t.user && c.round === t.round && c.amount === t.amount)) {
      findings.push({ ...base, kind: 'status_mismatch', detail: `${r.kind} ${r.id}: the wallet rolled it back; the vendor still counts it` });
      ok = false;
    }
    if (ok) matched++;
  }

  // The vendor's cancels name no target: matched with the wallet's rollbacks by user, round and amount
  // (a live table's round is every seated player's: its id alone names no one's money).
  const unusedRollbacks = [...rollbacks];
  for (const c of vendor.filter((v) => v.kind === 'cancel')) {
    const same = (r: LedgerRollback) => r.user === c.user && r.round === (c.round ?? null) && r.amount === c.amount;
    const i = unusedRollbacks.findIndex((r) => same(r) && theirs(r));
    if (i >= 0) {
      unusedRollbacks.splice(i, 1);
      if (inside(c.at)) matched++;
      continue;
    }
    if (!inside(c.at) || c.amount === 0n) continue;
    const elsewhere = unusedRollbacks.findIndex(same);
    const key = `cancel:${c.user}:${c.round ?? ''}:${c.amount}`;
    const base = { key, at: c.at, player: owner.players.get(c.user) ?? null, currency: owner.currency, vendor: json(c) };
    if (elsewhere >= 0) {
      const [r] = unusedRollbacks.splice(elsewhere, 1);
      findings.push({ ...base, currency: r!.currency, kind: 'currency_mismatch', detail: `the vendor shows ${amountText(c.amount, owner.currency)} cancelled on round ${c.round ?? '?'} for ${whose(c.user)}; the wallet moved it back in ${r!.currency}`, ledger: json(r!) });
      continue;
    }
    // How many refunds of that user, round and amount the comparison saw (each matched to another of
    // the vendor's cancels): a resolution finding more has met a refund made since (reconciler.ts).
    const refunds = rollbacks.filter((r) => same(r) && theirs(r)).length;
    findings.push({ ...base, kind: 'status_mismatch', detail: `the vendor shows ${amountText(c.amount, owner.currency)} cancelled on round ${c.round ?? '?'} for ${whose(c.user)}; the wallet applied no such cancel (the bet stands)`, ledger: { refunds } });
  }
  for (const r of unusedRollbacks) {
    if (!inside(r.at) || r.amount === 0n || !theirs(r)) continue;
    findings.push({ key: `rollback:${r.target}`, kind: 'missing_at_vendor', at: r.at, player: r.player, currency: r.currency, detail: `the wallet moved back ${amountText(r.amount, r.currency)} of ${r.target}; the vendor lists no cancel of it`, ledger: json(r) });
  }

  for (const t of ledger) {
    if (!t.applied || (t.kind !== 'debit' && t.kind !== 'credit') || listed.has(t.id) || !inside(t.at) || !theirs(t)) continue;
    findings.push({ key: t.id, kind: 'missing_at_vendor', at: t.at, player: t.player, currency: t.currency, detail: `the wallet ${t.kind === 'debit' ? 'took' : 'paid'} ${amountText(t.amount, t.currency)} as ${t.id}; the vendor does not list it`, ledger: json(t) });
  }
  return { matched, findings };
}
