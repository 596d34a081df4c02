import { Router } from 'express';
import { HttpProblem, sendProblem } from './http';

export type ReadinessCheck = () => Promise<void>;

const CHECK_TIMEOUT_MS = 2_000;

function withTimeout(name: string, check: ReadinessCheck): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name}: no answer within ${CHECK_TIMEOUT_MS} ms`)),
      CHECK_TIMEOUT_MS,
    );
    check().then(
      () => (clearTimeout(timer), resolve()),
      (err: unknown) => (clearTimeout(timer), reject(new Error(`${name}: ${(err as Error)?.message ?? err}`))),
    );
  });
}

/**
 * `/healthz`: the process serves HTTP (liveness, and daprd's app health check).
 * `/readyz`: every dependency answers (readiness); 503 names the ones that don't, and while shutting down.
 */
export function healthRoutes(checks: Record<string, ReadinessCheck>, isShuttingDown: () => boolean): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    if (isShuttingDown()) return sendProblem(res, new HttpProblem(503, 'shutting down'));
    const results = await Promise.allSettled(Object.entries(checks).map(([name, check]) => withTimeout(name, check)));
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
    if (failures.length) return sendProblem(res, new HttpProblem(503, failures.join('; ')));
    res.json({ status: 'ready', checks: Object.keys(checks) });
  });
  return router;
}
