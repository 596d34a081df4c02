import { RequestHandler, Router } from 'express';
import {
  badRequest,
  IdParams,
  linkNextPage,
  methodNotAllowed,
  parseId,
  requireJsonBody,
  validate,
} from '@portable-dapr/common';
import type { AuditLogs } from '../use-cases/audit-logs';
import { createAuditLogInput, listQuery, updateAuditLogInput } from './audit-log-input';

export interface AuditLogsDeps {
  auditLogs: AuditLogs;
  maxPageSize: number;
}

/**
 * The AuditLogs API, with the routes and status codes existing clients use, append-only by default (PUT and DELETE
 * answer 403 unless AUDIT_ALLOW_MUTATIONS=true).
 */
export function auditLogsRouter({ auditLogs, maxPageSize }: AuditLogsDeps): Router {
  const router = Router();
  router.get('/', listAuditLogs(auditLogs, listQuery(maxPageSize)));
  router.get('/:id', getAuditLog(auditLogs));
  router.post('/', createAuditLog(auditLogs));
  router.put('/:id', updateAuditLog(auditLogs));
  router.delete('/:id', deleteAuditLog(auditLogs));
  router.all('/', methodNotAllowed(['GET', 'POST']));
  router.all('/:id', methodNotAllowed(['GET', 'PUT', 'DELETE']));
  return router;
}

function listAuditLogs(auditLogs: AuditLogs, query: ReturnType<typeof listQuery>): RequestHandler {
  return async (req, res) => {
    const q = validate(query, req.query, 'query');
    const entries = await auditLogs.list(q);
    linkNextPage(req, res, q, entries.length);
    res.json(entries);
  };
}

function getAuditLog(auditLogs: AuditLogs): RequestHandler<IdParams> {
  return async (req, res) => {
    res.json(await auditLogs.get(parseId(req.params.id)));
  };
}

function createAuditLog(auditLogs: AuditLogs): RequestHandler {
  return async (req, res) => {
    const { logMessage, timeStamp, eventType, subjectId } = validate(createAuditLogInput, requireJsonBody(req));
    const entry = await auditLogs.create({ logMessage, timeStamp, eventType, subjectId });
    res.status(201).location(`${req.baseUrl}/${entry.id}`).json(entry);
  };
}

/** A refused edit is a 403 whatever the request holds: the mutability check comes first. */
function updateAuditLog(auditLogs: AuditLogs): RequestHandler<IdParams> {
  return async (req, res) => {
    auditLogs.assertMutable();
    const id = parseId(req.params.id);
    const input = validate(updateAuditLogInput, requireJsonBody(req));
    if (input.id !== undefined && input.id !== id) {
      throw badRequest(`the body's id (${input.id}) differs from the path's (${id})`, [
        { field: 'id', message: 'must match the id in the path' },
      ]);
    }
    await auditLogs.update(id, { logMessage: input.logMessage, timeStamp: input.timeStamp });
    res.status(204).end();
  };
}

function deleteAuditLog(auditLogs: AuditLogs): RequestHandler<IdParams> {
  return async (req, res) => {
    auditLogs.assertMutable();
    res.status(200).json(await auditLogs.remove(parseId(req.params.id)));
  };
}
