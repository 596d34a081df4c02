import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpProblem, sendProblem } from './problem';

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * When APP_API_TOKEN is set, daprd sends it as `dapr-api-token` on every call it makes to the app;
 * anything else reaching the app's port directly is refused. Health checks stay open for probes.
 */
export function requireAppToken(
  token: string | undefined,
  openPaths: string[] = ['/healthz', '/readyz'],
): RequestHandler {
  return (req, res, next) => {
    if (!token || openPaths.includes(req.path)) return next();
    const given = req.headers['dapr-api-token'];
    if (typeof given === 'string' && sameSecret(given, token)) return next();
    sendProblem(res, new HttpProblem(401, 'missing or wrong dapr-api-token'));
  };
}
