import { RequestHandler, Router } from 'express';
import { IdParams, linkNextPage, methodNotAllowed, paginationFields, parseId, validate } from '@portable-dapr/common';
import { z } from 'zod';
import type { DeadLetters } from '../use-cases/dead-letters';

const pageQuery = (maxPage: number) => z.strictObject(paginationFields(maxPage));

export interface DeadLettersDeps {
  deadLetters: DeadLetters;
  maxPageSize: number;
}

/** Read-only view of the dead letters: poison events are kept and visible, never silently discarded. */
export function deadLettersRouter({ deadLetters, maxPageSize }: DeadLettersDeps): Router {
  const router = Router();
  router.get('/', listDeadLetters(deadLetters, pageQuery(maxPageSize)));
  router.get('/:id', getDeadLetter(deadLetters));
  router.all('/', methodNotAllowed(['GET']));
  router.all('/:id', methodNotAllowed(['GET']));
  return router;
}

function listDeadLetters(deadLetters: DeadLetters, query: ReturnType<typeof pageQuery>): RequestHandler {
  return async (req, res) => {
    const page = validate(query, req.query, 'query');
    const rows = await deadLetters.list(page);
    linkNextPage(req, res, page, rows.length);
    res.json(rows);
  };
}

function getDeadLetter(deadLetters: DeadLetters): RequestHandler<IdParams> {
  return async (req, res) => {
    res.json(await deadLetters.get(parseId(req.params.id)));
  };
}
