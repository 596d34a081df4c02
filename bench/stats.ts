/** One measured figure across repeated runs. */
export interface Series {
  name: string;
  unit: string;
  values: number[];
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const at = (i: number) => sorted[i] ?? NaN;
  return sorted.length % 2 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
}

/** `min–max`, rounded to what the figure's size warrants. */
export function spread(values: number[]): string {
  const digits = Math.max(...values.map(Math.abs)) >= 100 ? 0 : 1;
  return `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;
}

/** The value at percentile `p` of an ascending list (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
