import type { Sequelize } from 'sequelize';
import { AuditLog, initAuditLog } from './audit-log';
import { DeadLetter, initDeadLetter } from './dead-letter';

export interface AuditModels {
  AuditLog: typeof AuditLog;
  DeadLetter: typeof DeadLetter;
}

export function initModels(sequelize: Sequelize): AuditModels {
  return { AuditLog: initAuditLog(sequelize), DeadLetter: initDeadLetter(sequelize) };
}

export { AuditLog, DeadLetter };
export type { AuditLogDto } from './audit-log';
export type { DeadLetterDto } from './dead-letter';
