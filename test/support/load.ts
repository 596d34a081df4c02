/** Runs `total` calls of `call(i)` with at most `concurrency` in flight; returns each call's status (0: no answer). */
export async function runLoad(
  total: number,
  concurrency: number,
  call: (i: number) => Promise<Response>,
): Promise<number[]> {
  const statuses = new Array<number>(total).fill(0);
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      try {
        const res = await call(i);
        statuses[i] = res.status;
        await res.arrayBuffer();
      } catch {
        statuses[i] = 0;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return statuses;
}

export const countBy = (values: number[]) =>
  values.reduce<Record<number, number>>((acc, v) => ((acc[v] = (acc[v] ?? 0) + 1), acc), {});

/** Scales the reliability suite's counts (RELIABILITY_SCALE=0.2 for a quick run); at least 1. */
export const scaled = (n: number) => Math.max(1, Math.round(n * Number(process.env.RELIABILITY_SCALE ?? 1)));

export const postProduct = (baseUrl: string, name: string, headers: Record<string, string> = {}) =>
  fetch(`${baseUrl}/api/products`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ name, type: 'Load', price: 1 }),
    signal: AbortSignal.timeout(30_000),
  });
