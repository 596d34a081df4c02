/**
 * The raw event path's consumer: what the audit service and its sidecar do, by hand. It reads the stream
 * in batches (XREADGROUP), inserts a batch's audit rows in one statement that ignores a known event id
 * (a redelivery), then acknowledges the batch (XACK). AUDIT_DB, REDIS_URL, STREAM and GROUP come from the
 * benchmark; the PostgreSQL connection from PGHOST/PGPORT/PGUSER.
 */
import { Redis } from 'ioredis';
import { Client } from 'pg';

/** At most this many events per batch: the audit subscription's maxMessagesCount. */
const BATCH = 1000;
/** How long one read waits for news; also bounds how long a stop waits. */
const BLOCK_MS = 500;

/**
 * One statement per batch, whatever its size: arrays as parameters, unpacked by the database; a named
 * statement, so it is parsed and planned once.
 */
const INSERT_SQL = `
INSERT INTO audit_logs (event_id, event_type, source, subject_id, time_stamp, log_message, payload, recorded_at)
SELECT r.*, $8::timestamptz
FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::timestamptz[], $6::text[], $7::text[]) AS r
ON CONFLICT (event_id) DO NOTHING`;

interface Entry {
  id: string;
  fields: string[];
}

/** XREADGROUP's answer ([[stream, [[id, [field, value, ...]], ...]]] or null) as entries. */
function entriesOf(reply: unknown): Entry[] {
  if (!Array.isArray(reply)) return [];
  const [stream] = reply as unknown[];
  const items = Array.isArray(stream) ? (stream as unknown[])[1] : undefined;
  if (!Array.isArray(items)) return [];
  return (items as unknown[]).flatMap((item) => {
    const [id, fields] = Array.isArray(item) ? (item as unknown[]) : [];
    return typeof id === 'string' && Array.isArray(fields) ? [{ id, fields: fields.map(String) }] : [];
  });
}

/** A field's value in an entry's [field, value, ...] list. */
function fieldOf(fields: string[], name: string): string {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1] ?? '';
  return '';
}

/** The audit table's columns, one array each, from the entries that are product events. */
function columnsOf(entries: Entry[]): string[][] {
  const columns: string[][] = [[], [], [], [], [], [], []];
  for (const { fields } of entries) {
    const data = fieldOf(fields, 'data');
    try {
      const event = JSON.parse(data) as {
        eventId: string;
        eventType: string;
        occurredAt: string;
        product: { id: number };
        message: string;
      };
      const row = [
        event.eventId,
        event.eventType,
        fieldOf(fields, 'source'),
        String(event.product.id),
        event.occurredAt,
      ];
      row.push(event.message, data);
      row.forEach((value, i) => columns[i]?.push(value));
    } catch {
      process.stderr.write(`dropping an entry that is not a product event: ${data.slice(0, 200)}\n`);
    }
  }
  return columns;
}

async function main(): Promise<void> {
  const { AUDIT_DB: database, REDIS_URL: redisUrl, STREAM: stream, GROUP: group } = process.env;
  if (!database || !redisUrl || !stream || !group)
    throw new Error('AUDIT_DB, REDIS_URL, STREAM and GROUP are required');
  const db = new Client({ database });
  await db.connect();
  const redis = new Redis(redisUrl);
  let stopping = false;
  process.on('SIGTERM', () => (stopping = true));
  // Entries this consumer read but did not acknowledge before a stop come first ('0'), then new ones ('>').
  let cursor = '0';
  while (!stopping) {
    const reply = await redis.call(
      'XREADGROUP',
      'GROUP',
      group,
      'audit-raw',
      'COUNT',
      BATCH,
      'BLOCK',
      BLOCK_MS,
      'STREAMS',
      stream,
      cursor,
    );
    const entries = entriesOf(reply);
    if (entries.length === 0) {
      cursor = '>';
      continue;
    }
    const columns = columnsOf(entries);
    if (columns[0]?.length) await db.query({ name: 'audit', text: INSERT_SQL, values: [...columns, new Date()] });
    await redis.xack(stream, group, ...entries.map((e) => e.id));
  }
  await db.end();
  redis.disconnect();
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
