import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { isTransientDbError } from '../db';
import { badRequest, HttpProblem, notFound, sendProblem } from './problem';

export function notFoundHandler(): RequestHandler {
  return (req, res) => sendProblem(res, notFound(`no route for ${req.method} ${req.path}`));
}

/**
 * Maps body-parser failures and HttpProblems to problem+json, an unavailable database to 503; anything
 * else is logged and answered 500.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return;
    if (err instanceof HttpProblem) return sendProblem(res, err);
    const e = err as { type?: string; status?: number; message?: string; limit?: number };
    switch (e.type) {
      case 'entity.parse.failed':
        return sendProblem(res, badRequest(`malformed JSON: ${e.message}`));
      case 'entity.too.large':
        return sendProblem(res, new HttpProblem(413, `the body exceeds ${e.limit} bytes`));
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return sendProblem(res, new HttpProblem(415, e.message));
      case 'request.aborted':
      case 'request.size.invalid':
      case 'stream.encoding.set':
        return sendProblem(res, badRequest(e.message ?? 'invalid request body'));
    }
    if (e.status && e.status >= 400 && e.status < 500) {
      return sendProblem(res, new HttpProblem(e.status, e.message));
    }
    const log = (req as Request & { log?: Logger }).log ?? logger;
    if (isTransientDbError(err)) {
      // The database is unreachable or saturated (no pooled connection in time): nothing is wrong with
      // the request, and the same request can succeed in a moment.
      log.warn({ err }, 'database unavailable');
      res.set('Retry-After', '1');
      return sendProblem(res, new HttpProblem(503, 'the database is not available right now; retry shortly'));
    }
    log.error({ err }, 'unhandled error');
    sendProblem(res, new HttpProblem(500, 'the request could not be completed; see the service log'));
  };
}

/** For a route that exists but not with this verb: 405 with the verbs it does take. */
export function methodNotAllowed(allowed: string[]): RequestHandler {
  return (req, res) => {
    res.setHeader('Allow', allowed.join(', '));
    sendProblem(res, new HttpProblem(405, `${req.method} is not supported here; use ${allowed.join(', ')}`));
  };
}
