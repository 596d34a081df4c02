import type { AuditRow, DeadLetterRow } from './audit-sink';

/**
 * Statements for the Dapr SQL output bindings, one text per engine: `bindings.postgresql` takes $n
 * placeholders, `bindings.mysql` (MySQL and MariaDB) takes `?`. Values only ever travel in the
 * binding's `params` metadata; nothing from an event is spliced into SQL text.
 */
export type BindingEngine = 'postgresql' | 'mysql';

export interface Statement {
  sql: string;
  params: unknown[];
}

/**
 * Audit rows travel as one JSON array parameter that the database unpacks into rows, so the statement
 * text is the same whatever the batch size. (A placeholder per value made the text grow with the batch,
 * and daprd echoes the text in a response header, which overflows its 16 KB limit at a few hundred rows.)
 * Strings are unpacked as unbounded text: the columns' own limits then refuse an over-long value as a
 * data error instead of the unpacking silently cutting it.
 */
const AUDIT_INSERT =
  'INSERT INTO audit_logs (event_id, event_type, source, subject_id, time_stamp, log_message, payload, recorded_at)';
const AUDIT_SELECT = 'SELECT r.event_id, r.event_type, r.source, r.subject_id, r.time_stamp, r.log_message, r.payload';
const INSERT_AUDIT_LOGS: Record<BindingEngine, string> = {
  postgresql: [
    AUDIT_INSERT,
    `${AUDIT_SELECT}, $2::timestamptz`,
    'FROM json_to_recordset($1::json) AS r(event_id text, event_type text, source text, subject_id integer,',
    'time_stamp timestamptz, log_message text, payload text)',
    'ON CONFLICT (event_id) DO NOTHING',
  ].join(' '),
  mysql: [
    AUDIT_INSERT,
    `${AUDIT_SELECT}, ?`,
    "FROM JSON_TABLE(?, '$[*]' COLUMNS (event_id LONGTEXT PATH '$.event_id', event_type LONGTEXT PATH '$.event_type',",
    "source LONGTEXT PATH '$.source', subject_id BIGINT PATH '$.subject_id',",
    "time_stamp VARCHAR(40) PATH '$.time_stamp',",
    "log_message LONGTEXT PATH '$.log_message', payload LONGTEXT PATH '$.payload')) AS r",
    'ON DUPLICATE KEY UPDATE event_id = audit_logs.event_id',
  ].join(' '),
};

/**
 * Row JSON per statement, in bytes. daprd refuses requests over 4 MiB, and the SDK escapes the JSON
 * again inside the request body (each byte at most twice over): 1.5 MB of rows stays well under.
 */
export const MAX_ROWS_JSON_BYTES = 1_500_000;

/** MySQL DATETIME takes `YYYY-MM-DD HH:MM:SS.mmm` (UTC here); PostgreSQL takes ISO-8601 with its zone. */
export function sqlTimestamp(engine: BindingEngine, date: Date): string {
  const iso = date.toISOString();
  return engine === 'postgresql' ? iso : iso.replace('T', ' ').replace('Z', '');
}

function rowJson(engine: BindingEngine, r: AuditRow): string {
  return JSON.stringify({
    event_id: r.eventId,
    event_type: r.eventType,
    source: r.source,
    subject_id: r.subjectId,
    time_stamp: sqlTimestamp(engine, r.timeStamp),
    log_message: r.logMessage,
    payload: r.payload,
  });
}

/**
 * The insert of a batch of audit rows: one statement, or several when the rows' JSON would make a
 * request too large. A redelivered event (its id already stored) is ignored, and only such a row.
 * `recordedAt`: when the rows are written (one time for the batch).
 */
export function insertAuditLogs(engine: BindingEngine, rows: AuditRow[], recordedAt = new Date()): Statement[] {
  const recorded = sqlTimestamp(engine, recordedAt);
  const statement = (parts: string[]): Statement => {
    const json = `[${parts.join(',')}]`;
    return { sql: INSERT_AUDIT_LOGS[engine], params: engine === 'postgresql' ? [json, recorded] : [recorded, json] };
  };
  const statements: Statement[] = [];
  let parts: string[] = [];
  let bytes = 0;
  for (const row of rows) {
    const part = rowJson(engine, row);
    const size = Buffer.byteLength(part) + 1;
    if (parts.length && bytes + size > MAX_ROWS_JSON_BYTES) {
      statements.push(statement(parts));
      parts = [];
      bytes = 0;
    }
    parts.push(part);
    bytes += size;
  }
  if (parts.length) statements.push(statement(parts));
  return statements;
}

export function insertDeadLetter(engine: BindingEngine, row: DeadLetterRow): Statement {
  const marks = Array.from({ length: 6 }, (_, i) => (engine === 'postgresql' ? `$${i + 1}` : '?')).join(', ');
  const columns = 'message_id, topic, received_at, reason, payload, payload_encoding';
  const head = `INSERT INTO dead_letters (${columns}) VALUES (${marks})`;
  return {
    sql:
      engine === 'postgresql'
        ? `${head} ON CONFLICT (message_id) DO NOTHING`
        : `${head} ON DUPLICATE KEY UPDATE message_id = message_id`,
    params: [
      row.messageId,
      row.topic,
      sqlTimestamp(engine, row.receivedAt),
      row.reason,
      row.payload,
      row.payloadEncoding,
    ],
  };
}
