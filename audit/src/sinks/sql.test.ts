import { must } from '../../../test/support/must';
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

/** The first statement of a batch (the only one, short of the size limit). */
const firstStatement = (...args: Parameters<typeof insertAuditLogs>) =>
  must(insertAuditLogs(...args)[0], 'an INSERT statement');

describe('binding statements', () => {
  it('sends a batch as one JSON parameter under a statement text that does not grow with the batch', () => {
    for (const engine of ['postgresql', 'mysql'] as const) {
      const one = firstStatement(engine, [row('a')]);
      const many = firstStatement(
        engine,
        Array.from({ length: 500 }, (_, i) => row(`e${i}`)),
      );
      expect(many.sql).toBe(one.sql);
      const json = many.params.find((p) => typeof p === 'string' && p.startsWith('[')) as string;
      expect((JSON.parse(json) as { event_id: string }[]).map((r) => r.event_id)).toEqual(
        Array.from({ length: 500 }, (_, i) => `e${i}`),
      );
    }
  });

  it('ignores only duplicate event ids, per engine', () => {
    expect(firstStatement('postgresql', [row('a')]).sql).toMatch(
      /json_to_recordset\(\$1::json\).* ON CONFLICT \(event_id\) DO NOTHING$/,
    );
    expect(firstStatement('mysql', [row('a')]).sql).toMatch(
      /JSON_TABLE\(\?, .* ON DUPLICATE KEY UPDATE event_id = audit_logs\.event_id$/,
    );
  });

  it('formats each row for its engine and stamps the batch with one recording time', () => {
    const at = new Date('2030-01-01T00:00:00.000Z');
    const pg = firstStatement('postgresql', [row('a')], at);
    expect(pg.params[1]).toBe('2030-01-01T00:00:00.000Z');
    expect(JSON.parse(pg.params[0] as string)).toEqual([
      {
        event_id: 'a',
        event_type: 'product.created',
        source: 'catalog',
        subject_id: 7,
        time_stamp: '2026-01-02T03:04:05.678Z',
        log_message: row('a').logMessage,
        payload: '{"a":1}',
      },
    ]);
    const my = firstStatement('mysql', [row('a')], at);
    expect(my.params[0]).toBe('2030-01-01 00:00:00.000');
    expect((JSON.parse(my.params[1] as string) as { time_stamp: string }[])[0]?.time_stamp).toBe(
      '2026-01-02 03:04:05.678',
    );
  });

  it("splits a batch whose JSON would exceed daprd's request limit, losing and repeating no row", () => {
    const big = (id: string) => ({ ...row(id), payload: JSON.stringify({ blob: '"\\'.repeat(100_000) }) });
    const rows = Array.from({ length: 12 }, (_, i) => big(`b${i}`));
    const statements = insertAuditLogs('postgresql', rows);
    expect(statements.length).toBeGreaterThan(1);
    const ids = statements.flatMap((s) =>
      (JSON.parse(s.params[0] as string) as { event_id: string }[]).map((r) => r.event_id),
    );
    expect(ids).toEqual(rows.map((r) => r.eventId));
    for (const s of statements) {
      // The body the SDK sends: the statement inside the binding request, the JSON escaped once more.
      const body = JSON.stringify({ operation: 'exec', metadata: { sql: s.sql, params: JSON.stringify(s.params) } });
      expect(Buffer.byteLength(body)).toBeLessThan(4 * 1024 * 1024);
    }
  });

  it('never puts a value into the statement text', () => {
    for (const engine of ['postgresql', 'mysql'] as const) {
      const [{ sql, params }] = insertAuditLogs(engine, [row('a')]) as [{ sql: string; params: unknown[] }];
      expect(sql).not.toContain('DROP');
      expect(params.join()).toContain('DROP TABLE');
      const dl = insertDeadLetter(engine, {
        messageId: "x'--",
        topic: 't',
        receivedAt: new Date(0),
        reason: 'r',
        payload: 'p',
        payloadEncoding: 'utf8',
      });
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
