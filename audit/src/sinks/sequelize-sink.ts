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
  /**
   * How a duplicate event id is skipped: PostgreSQL/SQLite `ON CONFLICT DO NOTHING`; MySQL/MariaDB a
   * no-op `ON DUPLICATE KEY UPDATE` (not INSERT IGNORE, which would also turn a too-long value into a
   * silently truncated one); SQL Server, which Sequelize gives neither, row by row.
   */
  private readonly duplicates: 'do-nothing' | 'no-op-update' | 'row-by-row';

  constructor(private readonly models: AuditModels) {
    const dialect = models.AuditLog.sequelize!.getDialect();
    this.duplicates =
      dialect === 'mssql' ? 'row-by-row' : dialect === 'mysql' || dialect === 'mariadb' ? 'no-op-update' : 'do-nothing';
  }

  async insertAuditLogs(rows: AuditRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.write(async () => {
      if (this.duplicates === 'do-nothing') {
        await this.models.AuditLog.bulkCreate(rows, { ignoreDuplicates: true });
        return;
      }
      if (this.duplicates === 'no-op-update') {
        await this.models.AuditLog.bulkCreate(rows, { updateOnDuplicate: ['eventId'] });
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
      throw new SinkError(
        `database write failed: ${(err as Error).message}`,
        isTransientDbError(err) || !isDataError(err),
      );
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
