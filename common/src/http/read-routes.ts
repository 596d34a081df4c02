import type { RequestHandler } from 'express';
import type { z } from 'zod';
import { linkNextPage, Page, validate } from '../validation';
import { IdParams, parseId } from './params';

/**
 * `GET /`: the query checked against `query` (400 naming each bad parameter), the page listed, and a Link
 * to the next page when this one came back full.
 */
export function listRoute<Q extends Page>(query: z.ZodType<Q>, list: (query: Q) => Promise<unknown[]>): RequestHandler {
  return async (req, res) => {
    const page = validate(query, req.query, 'query');
    const found = await list(page);
    linkNextPage(req, res, page, found.length);
    res.json(found);
  };
}

/** `GET /:id`: one item by its id (400 for an id that is not one; `get` throws the 404). */
export function itemRoute(get: (id: number) => Promise<unknown>): RequestHandler<IdParams> {
  return async (req, res) => {
    res.json(await get(parseId(req.params.id)));
  };
}
