import { UniqueConstraintError } from 'sequelize';
import { isDataError } from './data-errors';

import type { AuditModels } from '../models';
import { AuditRow, AuditSink, DeadLetterRow, SinkError } from './audit-sink';

/**
 * Writes straight through Sequelize, for databases Dapr has no SQL binding for (Azure SQL). Idempotent
 * like the binding: a row whose unique id exists is skipped.
 */
export class SequelizeSink implements AuditSink {
  /**
   * How a duplicate event id is skipped: PostgreSQL `ON CONFLICT DO NOTHING`; MySQL/MariaDB a
   * no-op `ON DUPLICATE KEY UPDATE` (not INSERT IGNORE, which would also turn a too-long value into a
   * silently truncated one); SQL Server, which Sequelize gives neither, row by row.
   */
  private readonly duplicates: 'do-nothing' | 'no-op-update' | 'row-by-row';

  constructor(private readonly models: AuditModels) {
    const sequelize = models.AuditLog.sequelize;
    if (!sequelize) throw new Error('SequelizeSink needs initialised models (initModels)');
    const dialect = sequelize.getDialect();
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
      throw new SinkError(`database write failed: ${(err as Error).message}`, !isDataError(err));
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
