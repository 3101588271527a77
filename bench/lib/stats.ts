export type Spread = { median: number; min: number; max: number };

const ascending = (values: readonly number[]) => [...values].sort((a, b) => a - b);

/** The median (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = ascending(values);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) throw new Error('spread of no values');
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** Nearest-rank percentile of values already sorted ascending (`q` in 0..1). */
export function percentileOfSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

/** Per-pair ratios candidate / reference, pair by pair. */
export function ratios(reference: readonly number[], candidate: readonly number[]): number[] {
  if (reference.length !== candidate.length) throw new Error('pairs of unequal length');
  return candidate.map((value, index) => value / reference[index]!);
}
