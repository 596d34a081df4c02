import express, { Request, RequestHandler } from 'express';
import { badRequest, HttpProblem } from './problem';

/** JSON bodies only, bounded in size; an empty or non-JSON body is left undefined for the route to reject. */
export function jsonBody(limit: string): RequestHandler {
  return express.json({ limit, strict: true, type: ['application/json', 'application/*+json'] });
}

/** A body is required and must have come as JSON: tells 415 (wrong content type) from 400 (no body). */
export function requireJsonBody(req: Request): unknown {
  if (!req.is(['application/json', 'application/*+json'])) {
    throw new HttpProblem(415, 'send the body as application/json');
  }
  if (req.body === undefined) throw badRequest('a JSON body is required');
  return req.body;
}
