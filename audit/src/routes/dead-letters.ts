import { Router } from 'express';
import { linkNextPage, methodNotAllowed, notFound, paginationFields, parseId, validate } from '@portable-dapr/common';
import { z } from 'zod';
import type { AuditModels } from '../models';

/** Read-only view of the dead letters: poison events are kept and visible, never silently discarded. */
export function deadLettersRouter({ models, maxPageSize }: { models: AuditModels; maxPageSize: number }): Router {
  const router = Router();
  const query = z.strictObject(paginationFields(maxPageSize));

  router.get('/', async (req, res) => {
    const page = validate(query, req.query, 'query');
    const rows = await models.DeadLetter.findAll({ order: [['id', 'ASC']], limit: page.limit, offset: page.offset });
    linkNextPage(req, res, page, rows.length);
    res.json(rows.map((r) => r.toDto()));
  });

  router.get('/:id', async (req, res) => {
    const id = parseId(req.params.id);
    const row = await models.DeadLetter.findByPk(id);
    if (!row) throw notFound(`dead letter ${id} does not exist`);
    res.json(row.toDto());
  });

  router.all('/', methodNotAllowed(['GET']));
  router.all('/:id', methodNotAllowed(['GET']));
  return router;
}
