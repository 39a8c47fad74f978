/** A source of numbers in [0, 1): Math.random, or a seeded PRNG so a failing run can be replayed. */
export type Random = () => number;

/** A small deterministic PRNG (an LCG). */
export function prng(seed: number): Random {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A number in [min, max). */
export const between = (random: Random, [min, max]: readonly [number, number]) => min + random() * (max - min);

/** An integer amount in [min, max], both included (the span must stay below 2^53). */
export function amountBetween(random: Random, min: bigint, max: bigint): bigint {
  if (max <= min) return min;
  return min + BigInt(Math.floor(random() * Number(max - min + 1n)));
}

/** A shuffled copy (Fisher-Yates). */
export function shuffle<T>(random: Random, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
