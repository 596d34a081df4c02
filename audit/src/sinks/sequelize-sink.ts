import { UniqueConstraintError, ValidationError } from 'sequelize';
import { isTransientDbError } from '@portable-dapr/common';

import type { AuditRow } from '../events/product-event';
import type { AuditModels } from '../models';
import { AuditSink, DeadLetterRow, SinkError } from './sink';

/**
 * Writes straight through Sequelize, for databases Dapr has no SQL binding for (Azure SQL). Idempotent
 * like the binding: a row whose unique id exists is skipped.
 */
export class SequelizeSink implements AuditSink {
  /** SQL Server has no INSERT ... ON CONFLICT that Sequelize can emit; rows go one by one there. */
  private readonly bulkIgnore: boolean;

  constructor(private readonly models: AuditModels) {
    this.bulkIgnore = models.AuditLog.sequelize!.getDialect() !== 'mssql';
  }

  async insertAuditLogs(rows: AuditRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.write(async () => {
      if (this.bulkIgnore) {
        await this.models.AuditLog.bulkCreate(rows, { ignoreDuplicates: true });
        return;
      }
      for (const row of rows) await ignoreDuplicate(() => this.models.AuditLog.create(row));
    });
  }

  async insertDeadLetter(row: DeadLetterRow): Promise<void> {
    await this.write(() => ignoreDuplicate(() => this.models.DeadLetter.create(row)));
  }

  private async write(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      throw new SinkError(`database write failed: ${(err as Error).message}`, isTransientDbError(err) || !isDataError(err));
    }
  }
}

async function ignoreDuplicate(insert: () => Promise<unknown>): Promise<void> {
  try {
    await insert();
  } catch (err) {
    if (!(err instanceof UniqueConstraintError)) throw err;
  }
}

const MYSQL_DATA_ERRNOS = new Set([1048, 1264, 1265, 1292, 1366, 1406]);
const MSSQL_DATA_ERRNOS = new Set([241, 242, 515, 2628, 8152]);

/** The database refused the values themselves; anything else (schema, connection) may heal. */
function isDataError(err: unknown): boolean {
  if (err instanceof ValidationError) return true;
  const parent = (err as { parent?: { code?: unknown; errno?: unknown; number?: unknown } }).parent;
  if (!parent) return false;
  return (
    (typeof parent.code === 'string' && /^2[23]\d{3}$/.test(parent.code)) ||
    MYSQL_DATA_ERRNOS.has(Number(parent.errno)) ||
    MSSQL_DATA_ERRNOS.has(Number(parent.number))
  );
}
