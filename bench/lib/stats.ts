/** The q-quantile (0..1) of `values` by nearest rank; NaN for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

/** The run with the highest value: on a shared machine interference only ever slows a run down. */
export function best<T>(runs: readonly T[], value: (run: T) => number): T {
  if (runs.length === 0) throw new Error('no runs');
  return runs.reduce((a, b) => (value(b) > value(a) ? b : a));
}
