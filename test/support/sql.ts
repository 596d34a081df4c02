import { Client } from 'pg';
import { sleep, waitUntil } from './wait';

/** Direct reads of a PostgreSQL database, for assertions about what really is stored. */
export async function pgQuery<T extends object>(
  database: string,
  sql: string,
  params: unknown[] = [],
  port = 5432,
): Promise<T[]> {
  const client = new Client({ host: '127.0.0.1', port, user: 'postgres', database });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

export interface AuditCounts {
  rows: number;
  /** Per event type: rows, and distinct products they are about. */
  byType: Record<string, { rows: number; subjects: number }>;
}

/** What the audit table holds; a change audited twice under two ids would show as rows > subjects. */
export async function auditCounts(database: string, port = 5432): Promise<AuditCounts> {
  const rows = await pgQuery<{ event_type: string; rows: string; subjects: string }>(
    database,
    'SELECT event_type, count(*) AS rows, count(DISTINCT subject_id) AS subjects FROM audit_logs GROUP BY event_type',
    [],
    port,
  );
  const byType = Object.fromEntries(
    rows.map((r) => [r.event_type, { rows: Number(r.rows), subjects: Number(r.subjects) }]),
  );
  return { rows: rows.reduce((n, r) => n + Number(r.rows), 0), byType };
}

/** The number a `SELECT count(*) AS n ...` query answers. */
export async function pgCount(database: string, sql: string, params: unknown[] = [], port = 5432): Promise<number> {
  const [row] = await pgQuery<{ n: string }>(database, sql, params, port);
  if (!row) throw new Error(`no row from ${sql}`);
  return Number(row.n);
}

export async function pendingOutbox(database: string): Promise<number> {
  return pgCount(database, 'SELECT count(*) AS n FROM outbox_events WHERE published_at IS NULL');
}

/** Waits for `expected` rows per event type, then checks that exactly those arrived: each once, each about another product. */
export async function expectAudited(
  database: string,
  expected: Record<string, number>,
  timeoutMs = 120_000,
  port = 5432,
): Promise<void> {
  const total = Object.values(expected).reduce((a, b) => a + b, 0);
  await waitUntil(
    `${total} audit rows`,
    async () => ((await auditCounts(database, port)).rows >= total ? true : undefined),
    timeoutMs,
    500,
  );
  await sleep(2_000); // a duplicate would arrive now
  const counts = await auditCounts(database, port);
  expect(counts.rows).toBe(total);
  for (const [type, n] of Object.entries(expected)) expect(counts.byType[type]).toEqual({ rows: n, subjects: n });
}
