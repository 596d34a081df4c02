import { AuditRow, AuditSink, DeadLetterRow, SinkError } from '../src/sinks/audit-sink';

/** An in-memory sink with the same idempotency rule as the real ones, and switchable failures. */
export class MemorySink implements AuditSink {
  rows = new Map<string, AuditRow>();
  deadLetters = new Map<string, DeadLetterRow>();
  failure?: SinkError;
  refuse?: (row: AuditRow) => boolean;
  calls = 0;

  async insertAuditLogs(rows: AuditRow[]) {
    this.calls++;
    if (this.failure) throw this.failure;
    if (rows.some((r) => this.refuse?.(r))) throw new SinkError('value too long (SQLSTATE 22001)', false);
    for (const r of rows) if (!this.rows.has(r.eventId)) this.rows.set(r.eventId, r);
  }

  async insertDeadLetter(row: DeadLetterRow) {
    if (this.failure) throw this.failure;
    if (!this.deadLetters.has(row.messageId)) this.deadLetters.set(row.messageId, row);
  }
}
