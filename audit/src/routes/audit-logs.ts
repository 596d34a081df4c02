import { RequestHandler, Router } from 'express';
import {
  IdParams,
  itemRoute,
  listRoute,
  methodNotAllowed,
  parseId,
  requireJsonBody,
  requireSameId,
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
  router.get(
    '/',
    listRoute(listQuery(maxPageSize), (query) => auditLogs.list(query)),
  );
  router.get(
    '/:id',
    itemRoute((id) => auditLogs.get(id)),
  );
  router.post('/', createAuditLog(auditLogs));
  router.put('/:id', updateAuditLog(auditLogs));
  router.delete('/:id', deleteAuditLog(auditLogs));
  router.all('/', methodNotAllowed(['GET', 'POST']));
  router.all('/:id', methodNotAllowed(['GET', 'PUT', 'DELETE']));
  return router;
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
    requireSameId(id, input.id);
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
