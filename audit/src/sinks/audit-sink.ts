/** One audit row, as every sink writes it. */
export interface AuditRow {
  eventId: string;
  eventType: string;
  source: string;
  subjectId: number;
  timeStamp: Date;
  logMessage: string;
  /** The event data, JSON text. */
  payload: string;
}

export interface DeadLetterRow {
  messageId: string;
  topic: string;
  receivedAt: Date;
  reason: string;
  payload: string;
  /** `utf8`: the payload is the message text; `base64`: the message bytes were not storable as text. */
  payloadEncoding: 'utf8' | 'base64';
}

/** Where consumed events are written. Both methods are idempotent on the row's unique id. */
export interface AuditSink {
  insertAuditLogs(rows: AuditRow[]): Promise<void>;
  insertDeadLetter(row: DeadLetterRow): Promise<void>;
}

/**
 * A write that failed. `transient`: the database or sidecar is unavailable, try again later (RETRY);
 * otherwise the data itself was refused and retrying cannot help (DROP, to the dead letters).
 */
export class SinkError extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
    this.name = 'SinkError';
  }
}
