import type { RequestHandler } from 'express';

/** GET /api/version: the service's version as plain text (the shape existing clients read). */
export function versionHandler(version: string): RequestHandler {
  return (_req, res) => {
    res.type('text/plain').send(version);
  };
}
