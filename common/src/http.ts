import { randomUUID, timingSafeEqual } from 'node:crypto';
import express, { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import pinoHttp from 'pino-http';
import type { Logger } from 'pino';
import { isTransientDbError } from './db';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface FieldProblem {
  field: string;
  message: string;
}

/** An RFC 9457 problem: what a client needs to fix its request. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: FieldProblem[],
  ) {
    super(detail ?? title);
    this.name = 'HttpProblem';
  }
}

export function sendProblem(res: Response, problem: HttpProblem): void {
  res
    .status(problem.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(
      JSON.stringify({
        type: 'about:blank',
        title: problem.title,
        status: problem.status,
        ...(problem.detail ? { detail: problem.detail } : {}),
        instance: res.req.originalUrl,
        ...(problem.errors ? { errors: problem.errors } : {}),
      }),
    );
}

export const badRequest = (detail: string, errors?: FieldProblem[]) =>
  new HttpProblem(400, 'Bad Request', detail, errors);
export const notFound = (detail: string) => new HttpProblem(404, 'Not Found', detail);

/** Route ids are positive integers that fit the database's INT column; anything else is a 400. */
export function parseId(raw: string | undefined, name = 'id'): number {
  if (raw === undefined || !/^[1-9]\d{0,9}$/.test(raw) || Number(raw) > 2_147_483_647) {
    throw badRequest(`${name} must be a positive integer`, [{ field: name, message: 'must be a positive integer' }]);
  }
  return Number(raw);
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Request logging with an id taken from the caller (x-request-id) when sane, or made up. */
export function requestLogger(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    genReqId: (req, res) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
      res.setHeader('x-request-id', id);
      return id;
    },
    customProps: (req) => ({ traceparent: req.headers.traceparent }),
    customLogLevel: (_req, res, err) =>
      err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
    serializers: {
      req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}

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
    sendProblem(res, new HttpProblem(401, 'Unauthorized', 'missing or wrong dapr-api-token'));
  };
}

/** JSON bodies only, bounded in size; an empty or non-JSON body is left undefined for the route to reject. */
export function jsonBody(limit: string): RequestHandler {
  return express.json({ limit, strict: true, type: ['application/json', 'application/*+json'] });
}

/** A body is required and must have come as JSON: tells 415 (wrong content type) from 400 (no body). */
export function requireJsonBody(req: Request): unknown {
  if (!req.is(['application/json', 'application/*+json'])) {
    throw new HttpProblem(415, 'Unsupported Media Type', 'send the body as application/json');
  }
  if (req.body === undefined) throw badRequest('a JSON body is required');
  return req.body;
}

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
        return sendProblem(res, new HttpProblem(413, 'Payload Too Large', `the body exceeds ${e.limit} bytes`));
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return sendProblem(res, new HttpProblem(415, 'Unsupported Media Type', e.message));
      case 'request.aborted':
      case 'request.size.invalid':
      case 'stream.encoding.set':
        return sendProblem(res, badRequest(e.message ?? 'invalid request body'));
    }
    if (e.status && e.status >= 400 && e.status < 500) {
      return sendProblem(res, new HttpProblem(e.status, 'Bad Request', e.message));
    }
    const log = (req as Request & { log?: Logger }).log ?? logger;
    if (isTransientDbError(err)) {
      // The database is unreachable or saturated (no pooled connection in time): nothing is wrong with
      // the request, and the same request can succeed in a moment.
      log.warn({ err }, 'database unavailable');
      res.set('Retry-After', '1');
      return sendProblem(
        res,
        new HttpProblem(503, 'Service Unavailable', 'the database is not available right now; retry shortly'),
      );
    }
    log.error({ err }, 'unhandled error');
    sendProblem(
      res,
      new HttpProblem(500, 'Internal Server Error', 'the request could not be completed; see the service log'),
    );
  };
}

/** Express 5 forwards rejected promises to the error handler; this only adds the type. */
export type AsyncHandler = (req: Request, res: Response) => Promise<void>;

/** For a route that exists but not with this verb: 405 with the verbs it does take. */
export function methodNotAllowed(allowed: string[]): RequestHandler {
  return (req, res) => {
    res.setHeader('Allow', allowed.join(', '));
    sendProblem(
      res,
      new HttpProblem(405, 'Method Not Allowed', `${req.method} is not supported here; use ${allowed.join(', ')}`),
    );
  };
}

/** GET /api/version, as the original: the service's version as plain text. */
export function versionHandler(version: string): RequestHandler {
  return (_req, res) => {
    res.type('text/plain').send(version);
  };
}

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
