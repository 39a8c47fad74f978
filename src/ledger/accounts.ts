import type { Transaction } from 'kysely';
import type { Db } from './database.ts';
import type { Database } from './schema.ts';

/**
 * How many rows a house account (a provider's game account, the cashier) is split into. A player's
 * transfers always use slot (player id mod SLOTS), so two players contend on a house row only when
 * they share a slot, and one player's transfers stay on one row (a stable lock order).
 */
export const HOUSE_SLOTS = 32;

type Executor = Db | Transaction<Database>;

export type HouseAccount = { kind: 'game'; provider: string; currency: string } | { kind: 'cashier'; currency: string };

/**
 * House account rows are created on first use and never change identity, so their ids are cached;
 * but only an id seen already committed: a row created inside a transaction that later rolls back
 * must not outlive it in the cache.
 */
export class HouseAccounts {
  readonly #ids = new Map<string, bigint>();

  /**
   * Forgets every id. After a rollback of a transaction several operations shared: one of them may
   * have cached an account another created in it, which the rollback removed.
   */
  forget(): void {
    this.#ids.clear();
  }

  async idFor(db: Executor, house: HouseAccount, playerId: bigint): Promise<bigint> {
    const slot = Number(playerId % BigInt(HOUSE_SLOTS));
    const provider = house.kind === 'game' ? house.provider : null;
    const key = `${house.kind}\u0000${provider ?? ''}\u0000${house.currency}\u0000${slot}`;
    const cached = this.#ids.get(key);
    if (cached !== undefined) return cached;
    const created = await db
      .insertInto('accounts')
      .values({ kind: house.kind, provider_id: provider, currency: house.currency, slot, player_id: null })
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .executeTakeFirst();
    if (created) return created.id; // ours, not committed yet: cached when next seen from another transaction
    let query = db
      .selectFrom('accounts')
      .select('id')
      .where('kind', '=', house.kind)
      .where('currency', '=', house.currency)
      .where('slot', '=', slot);
    if (provider !== null) query = query.where('provider_id', '=', provider);
    const { id } = await query.executeTakeFirstOrThrow();
    this.#ids.set(key, id);
    return id;
  }
}
