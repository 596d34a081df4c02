import express, { RequestHandler } from 'express';

/**
 * What daprd asks every app at start: its programmatic subscriptions (none: they are declared in
 * YAML) and its actor configuration (no actors). Answered so the sidecar's questions are not 404s.
 */
export function daprAppCallbacks(): RequestHandler {
  const router = express.Router();
  router.get('/dapr/subscribe', (_req, res) => void res.json([]));
  router.get('/dapr/config', (_req, res) => void res.json({}));
  return router;
}
