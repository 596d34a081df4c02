import type { AuditRow } from '../events/product-event';
import type { DeadLetterRow } from './sink';

/**
 * Statements for the Dapr SQL output bindings, one text per engine: `bindings.postgresql` takes $n
 * placeholders, `bindings.mysql` (MySQL and MariaDB) takes `?`. Values only ever travel in the
 * binding's `params` metadata; nothing from an event is spliced into SQL text.
 */
export type BindingEngine = 'postgresql' | 'mysql';

const AUDIT_COLUMNS = ['event_id', 'event_type', 'source', 'subject_id', 'time_stamp', 'log_message', 'payload', 'recorded_at'] as const;
const DEAD_LETTER_COLUMNS = ['message_id', 'topic', 'received_at', 'reason', 'payload', 'payload_encoding'] as const;

function valuesClause(engine: BindingEngine, rows: number, columns: number): string {
  const tuples: string[] = [];
  for (let r = 0; r < rows; r++) {
    const marks = Array.from({ length: columns }, (_, c) => (engine === 'postgresql' ? `$${r * columns + c + 1}` : '?'));
    tuples.push(`(${marks.join(', ')})`);
  }
  return tuples.join(', ');
}

/** Ignores rows whose unique key already exists, and only those: a redelivery leaves one row. */
function insertIgnoringDuplicates(engine: BindingEngine, table: string, columns: readonly string[], key: string, rows: number): string {
  const head = `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${valuesClause(engine, rows, columns.length)}`;
  return engine === 'postgresql' ? `${head} ON CONFLICT (${key}) DO NOTHING` : `${head} ON DUPLICATE KEY UPDATE ${key} = ${key}`;
}

/** MySQL DATETIME takes `YYYY-MM-DD HH:MM:SS.mmm` (UTC here); PostgreSQL takes ISO-8601 with its zone. */
export function sqlTimestamp(engine: BindingEngine, date: Date): string {
  const iso = date.toISOString();
  return engine === 'postgresql' ? iso : iso.replace('T', ' ').replace('Z', '');
}

/** `recordedAt`: when the rows are written (one time for the batch). */
export function insertAuditLogs(engine: BindingEngine, rows: AuditRow[], recordedAt = new Date()): { sql: string; params: unknown[] } {
  const recorded = sqlTimestamp(engine, recordedAt);
  return {
    sql: insertIgnoringDuplicates(engine, 'audit_logs', AUDIT_COLUMNS, 'event_id', rows.length),
    params: rows.flatMap((r) => [r.eventId, r.eventType, r.source, r.subjectId, sqlTimestamp(engine, r.timeStamp), r.logMessage, r.payload, recorded]),
  };
}

export function insertDeadLetter(engine: BindingEngine, row: DeadLetterRow): { sql: string; params: unknown[] } {
  return {
    sql: insertIgnoringDuplicates(engine, 'dead_letters', DEAD_LETTER_COLUMNS, 'message_id', 1),
    params: [row.messageId, row.topic, sqlTimestamp(engine, row.receivedAt), row.reason, row.payload, row.payloadEncoding],
  };
}
