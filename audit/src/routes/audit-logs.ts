import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { Op, WhereOptions } from 'sequelize';
import {
  badRequest,
  HttpProblem,
  linkNextPage,
  methodNotAllowed,
  notFound,
  parseId,
  requireJsonBody,
  validate,
} from '@portable-dapr/common';
import type { AuditLog, AuditModels } from '../models';
import { createAuditLogInput, listQuery, updateAuditLogInput } from './audit-log-input';

export interface AuditLogsDeps {
  models: AuditModels;
  maxPageSize: number;
  allowMutations: boolean;
}

const MANUAL_SOURCE = 'api';

/**
 * The AuditLogs API, with the routes and status codes existing clients use, append-only by default (PUT and DELETE
 * answer 403 unless AUDIT_ALLOW_MUTATIONS=true).
 */
export function auditLogsRouter({ models, maxPageSize, allowMutations }: AuditLogsDeps): Router {
  const { AuditLog } = models;
  const router = Router();
  const query = listQuery(maxPageSize);

  const mutable = () => {
    if (!allowMutations)
      throw new HttpProblem(
        403,
        'the audit trail is append-only; set AUDIT_ALLOW_MUTATIONS=true to allow edits and deletes',
      );
  };
  const find = async (id: number): Promise<AuditLog> => {
    const entry = await AuditLog.findByPk(id);
    if (!entry) throw notFound(`audit log ${id} does not exist`);
    return entry;
  };

  router.get('/', async (req, res) => {
    const q = validate(query, req.query, 'query');
    const where: WhereOptions = {};
    if (q.eventType) Object.assign(where, { eventType: q.eventType });
    if (q.subjectId) Object.assign(where, { subjectId: q.subjectId });
    if (q.from || q.to) {
      Object.assign(where, {
        timeStamp: { ...(q.from ? { [Op.gte]: new Date(q.from) } : {}), ...(q.to ? { [Op.lte]: new Date(q.to) } : {}) },
      });
    }
    const entries = await AuditLog.findAll({ where, order: [['id', 'ASC']], limit: q.limit, offset: q.offset });
    linkNextPage(req, res, q, entries.length);
    res.json(entries.map((e) => e.toDto()));
  });

  router.get('/:id', async (req, res) => {
    res.json((await find(parseId(req.params.id))).toDto());
  });

  router.post('/', async (req, res) => {
    const input = validate(createAuditLogInput, requireJsonBody(req));
    const entry = await AuditLog.create({
      logMessage: input.logMessage,
      timeStamp: input.timeStamp ? new Date(input.timeStamp) : new Date(),
      eventId: randomUUID(),
      eventType: input.eventType ?? 'manual',
      source: MANUAL_SOURCE,
      subjectId: input.subjectId ?? null,
      payload: null,
    });
    res.status(201).location(`${req.baseUrl}/${entry.id}`).json(entry.toDto());
  });

  router.put('/:id', async (req, res) => {
    mutable();
    const id = parseId(req.params.id);
    const input = validate(updateAuditLogInput, requireJsonBody(req));
    if (input.id !== undefined && input.id !== id) {
      throw badRequest(`the body's id (${input.id}) differs from the path's (${id})`, [
        { field: 'id', message: 'must match the id in the path' },
      ]);
    }
    const entry = await find(id);
    await entry.update({ logMessage: input.logMessage, timeStamp: new Date(input.timeStamp) });
    res.status(204).end();
  });

  router.delete('/:id', async (req, res) => {
    mutable();
    const entry = await find(parseId(req.params.id));
    await entry.destroy();
    res.status(200).json(entry.toDto());
  });

  router.all('/', methodNotAllowed(['GET', 'POST']));
  router.all('/:id', methodNotAllowed(['GET', 'PUT', 'DELETE']));
  return router;
}
