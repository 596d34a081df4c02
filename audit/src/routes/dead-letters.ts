import { Router } from 'express';
import { itemRoute, listRoute, methodNotAllowed, pageQuery } from '@portable-dapr/common';
import type { DeadLetters } from '../use-cases/dead-letters';

export interface DeadLettersDeps {
  deadLetters: DeadLetters;
  maxPageSize: number;
}

/** Read-only view of the dead letters: poison events are kept and visible, never silently discarded. */
export function deadLettersRouter({ deadLetters, maxPageSize }: DeadLettersDeps): Router {
  const router = Router();
  router.get(
    '/',
    listRoute(pageQuery(maxPageSize), (page) => deadLetters.list(page)),
  );
  router.get(
    '/:id',
    itemRoute((id) => deadLetters.get(id)),
  );
  router.all('/', methodNotAllowed(['GET']));
  router.all('/:id', methodNotAllowed(['GET']));
  return router;
}
