import { insertAuditLogs, insertDeadLetter, sqlTimestamp } from './sql';

const row = (id: string) => ({
  eventId: id,
  eventType: 'product.created',
  source: 'catalog',
  subjectId: 7,
  timeStamp: new Date('2026-01-02T03:04:05.678Z'),
  logMessage: "Product Added. Name - O'Brien; DROP TABLE audit_logs;--",
  payload: '{"a":1}',
});

describe('binding statements', () => {
  it('renders $n placeholders for PostgreSQL and ignores only duplicate event ids', () => {
    const { sql, params } = insertAuditLogs('postgresql', [row('a'), row('b')]);
    expect(sql).toBe(
      'INSERT INTO audit_logs (event_id, event_type, source, subject_id, time_stamp, log_message, payload, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8), ($9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT (event_id) DO NOTHING',
    );
    expect(params).toHaveLength(16);
    expect(params[4]).toBe('2026-01-02T03:04:05.678Z');
  });

  it('renders ? placeholders for MySQL/MariaDB with a no-op update on a duplicate key', () => {
    const { sql, params } = insertAuditLogs('mysql', [row('a')]);
    expect(sql).toBe(
      'INSERT INTO audit_logs (event_id, event_type, source, subject_id, time_stamp, log_message, payload, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE event_id = event_id',
    );
    expect(params[4]).toBe('2026-01-02 03:04:05.678');
  });

  it('never puts a value into the statement text', () => {
    for (const engine of ['postgresql', 'mysql'] as const) {
      const { sql, params } = insertAuditLogs(engine, [row('a')]);
      expect(sql).not.toContain('DROP');
      expect(params).toContain(row('a').logMessage);
      const dl = insertDeadLetter(engine, { messageId: "x'--", topic: 't', receivedAt: new Date(0), reason: 'r', payload: 'p', payloadEncoding: 'utf8' });
      expect(dl.sql).not.toContain("x'--");
      expect(dl.params[0]).toBe("x'--");
    }
  });

  it('formats timestamps per engine, in UTC', () => {
    const d = new Date(Date.UTC(2030, 11, 31, 23, 59, 59, 1));
    expect(sqlTimestamp('postgresql', d)).toBe('2030-12-31T23:59:59.001Z');
    expect(sqlTimestamp('mysql', d)).toBe('2030-12-31 23:59:59.001');
  });
});
