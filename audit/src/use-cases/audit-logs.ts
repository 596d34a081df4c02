import { randomUUID } from 'node:crypto';
import { Op, WhereOptions } from 'sequelize';
import { HttpProblem, notFound } from '@portable-dapr/common';
import type { AuditLog, AuditLogDto, AuditModels } from '../models';

/** Which entries a list answers: those matching every filter given, `limit` of them after `offset`, in id order. */
export interface AuditLogQuery {
  eventType?: string;
  subjectId?: number;
  /** ISO-8601 date-times with a zone, both ends included. */
  from?: string;
  to?: string;
  limit: number;
  offset: number;
}

/** An entry written by hand (POST /api/auditlogs): a message, optionally when and about what. */
export interface ManualEntry {
  logMessage: string;
  /** ISO-8601 with a zone; now when absent. */
  timeStamp?: string;
  eventType?: string;
  subjectId?: number | null;
}

export interface AuditLogEdit {
  logMessage: string;
  /** ISO-8601 with a zone. */
  timeStamp: string;
}

/** The source of the entries written through the API rather than consumed from events. */
export const MANUAL_SOURCE = 'api';

/**
 * The audit trail as the AuditLogs API serves it: reads, hand-written entries, and edits and deletes,
 * which are refused (403) unless AUDIT_ALLOW_MUTATIONS=true: the trail is append-only by default.
 * Consumed events are written by ProductEventConsumer, through the sink.
 */
export class AuditLogs {
  constructor(
    private readonly models: AuditModels,
    private readonly allowMutations: boolean,
  ) {}

  async list(query: AuditLogQuery): Promise<AuditLogDto[]> {
    const entries = await this.models.AuditLog.findAll({
      where: matching(query),
      order: [['id', 'ASC']],
      limit: query.limit,
      offset: query.offset,
    });
    return entries.map((e) => e.toDto());
  }

  /** Throws a 404 problem when the entry does not exist. */
  async get(id: number): Promise<AuditLogDto> {
    return (await this.find(id)).toDto();
  }

  async create(entry: ManualEntry): Promise<AuditLogDto> {
    const created = await this.models.AuditLog.create({
      logMessage: entry.logMessage,
      timeStamp: entry.timeStamp ? new Date(entry.timeStamp) : new Date(),
      eventId: randomUUID(),
      eventType: entry.eventType ?? 'manual',
      source: MANUAL_SOURCE,
      subjectId: entry.subjectId ?? null,
      payload: null,
    });
    return created.toDto();
  }

  /** Throws a 403 problem unless edits and deletes are allowed (callers check before anything else). */
  assertMutable(): void {
    if (!this.allowMutations)
      throw new HttpProblem(
        403,
        'the audit trail is append-only; set AUDIT_ALLOW_MUTATIONS=true to allow edits and deletes',
      );
  }

  /** Throws a 403 problem when edits are not allowed, a 404 one when the entry does not exist. */
  async update(id: number, edit: AuditLogEdit): Promise<void> {
    this.assertMutable();
    const entry = await this.find(id);
    await entry.update({ logMessage: edit.logMessage, timeStamp: new Date(edit.timeStamp) });
  }

  /** Throws like update(); answers the deleted entry. */
  async remove(id: number): Promise<AuditLogDto> {
    this.assertMutable();
    const entry = await this.find(id);
    await entry.destroy();
    return entry.toDto();
  }

  private async find(id: number): Promise<AuditLog> {
    const entry = await this.models.AuditLog.findByPk(id);
    if (!entry) throw notFound(`audit log ${id} does not exist`);
    return entry;
  }
}

function matching(q: AuditLogQuery): WhereOptions {
  const where: WhereOptions = {};
  if (q.eventType) Object.assign(where, { eventType: q.eventType });
  if (q.subjectId) Object.assign(where, { subjectId: q.subjectId });
  if (q.from || q.to) {
    Object.assign(where, {
      timeStamp: { ...(q.from ? { [Op.gte]: new Date(q.from) } : {}), ...(q.to ? { [Op.lte]: new Date(q.to) } : {}) },
    });
  }
  return where;
}
