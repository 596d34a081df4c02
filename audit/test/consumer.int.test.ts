import { readFileSync } from 'node:fs';
import { databaseAdmin, Stack, startStack } from '../../tools/stack';
import { runId } from '../../test/support/databases';
import { must } from '../../test/support/must';
import { ThrowawayPostgres } from '../../test/support/throwaway';
import { waitUntil } from '../../test/support/wait';
import type { AuditLogDto } from '../src/models';
import { validData } from './fixtures';

/**
 * The audit service behind a real daprd: Redis Streams delivers, the PostgreSQL output binding writes.
 * Its database is a throwaway server this test stops and starts, never the machine's shared one.
 */
describe('audit consuming product events through its sidecar', () => {
  let pg: ThrowawayPostgres;
  let stack: Stack;
  const topic = `products-${runId()}`;

  beforeAll(async () => {
    pg = await ThrowawayPostgres.create();
    await databaseAdmin('postgres', '127.0.0.1', pg.port).ensureDatabase('audit');
    stack = await startStack({
      ports: 'free',
      apps: ['audit'],
      databases: { catalog: 'unused', audit: 'audit' },
      topic,
      appEnv: { audit: { DB_PORT: String(pg.port) } },
      secrets: { 'audit-db-postgresql': `host=127.0.0.1 port=${pg.port} user=postgres dbname=audit sslmode=disable` },
    });
  });

  afterAll(async () => {
    await stack?.stop();
    pg?.destroy();
  });

  const audit = () => stack.node('audit');
  const cloudEvent = (eventId: string, data: unknown = { ...validData, eventId }) =>
    JSON.stringify({
      specversion: '1.0',
      id: eventId,
      source: 'catalog',
      type: 'product.created',
      datacontenttype: 'application/json',
      data,
    });
  /** Publishes a complete CloudEvent through the sidecar, which keeps its id as given. */
  const publish = async (body: string, t = topic) => {
    const res = await fetch(`${audit().daprUrl}/v1.0/publish/pubsub/${t}`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body,
    });
    expect(res.status).toBe(204);
  };
  const logs = async (query = '') =>
    (await (await fetch(`${audit().daprUrl}/v1.0/invoke/audit/method/api/auditlogs${query}`)).json()) as AuditLogDto[];
  const byEvent = async (eventId: string) => (await logs()).filter((l) => l.eventId === eventId);

  it('writes a delivered event as one row with every field', async () => {
    const id = `e-${runId()}`;
    await publish(cloudEvent(id));
    const [row, ...more] = await waitUntil('the row', async () =>
      (await byEvent(id)).length ? byEvent(id) : undefined,
    );
    expect(more).toHaveLength(0);
    expect(row).toMatchObject({
      eventId: id,
      eventType: 'product.created',
      source: 'catalog',
      subjectId: validData.product.id,
      timeStamp: validData.occurredAt,
      logMessage: validData.message,
      payload: { ...validData, eventId: id },
    });
  });

  it('leaves one row when the same CloudEvent is delivered twice', async () => {
    const id = `dup-${runId()}`;
    await publish(cloudEvent(id));
    await publish(cloudEvent(id));
    const marker = `after-${runId()}`;
    await publish(cloudEvent(marker));
    await waitUntil('the marker behind the duplicates', async () =>
      (await byEvent(marker)).length ? true : undefined,
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(await byEvent(id)).toHaveLength(1);
  });

  it('dead-letters a malformed event, keeps it visible, and does not hold back the events behind it', async () => {
    const poison = `poison-${runId()}`;
    await publish(cloudEvent(poison, { eventType: 'product.created', product: 'not an object' }));
    const behind = `behind-${runId()}`;
    await publish(cloudEvent(behind));
    await waitUntil('the event behind the poison', async () => ((await byEvent(behind)).length ? true : undefined));
    const dead = await waitUntil('the dead letter', async () => {
      const all = (await (await fetch(`${audit().daprUrl}/v1.0/invoke/audit/method/api/deadletters`)).json()) as {
        messageId: string;
        reason: string;
        payload: string;
        topic: string;
      }[];
      return all.find((d) => d.messageId === poison);
    });
    expect(dead.topic).toBe(`${topic}-deadletter`);
    expect(dead.reason).toMatch(/eventId|product/);
    expect((JSON.parse(dead.payload) as { id: string }).id).toBe(poison);
    expect(await byEvent(poison)).toHaveLength(0);
  });

  it('asks for redelivery while its database is down, and writes every event once it is back', async () => {
    pg.stop();
    const ids = Array.from({ length: 5 }, (_, i) => `outage-${i}-${runId()}`);
    for (const id of ids) await publish(cloudEvent(id));
    const appLog = stack.logOf('audit');
    await waitUntil(
      'RETRY answers in the audit log',
      async () => (readFileSync(appLog, 'utf8').includes('asking for redelivery') ? true : undefined),
      30_000,
    );
    pg.start();
    await waitUntil(
      'all five rows',
      async () => {
        const rows = (await logs()).filter((l) => ids.includes(l.eventId));
        return rows.length === 5 ? rows : undefined;
      },
      60_000,
      500,
    );
    await new Promise((r) => setTimeout(r, 1_000));
    const rows = (await logs()).filter((l) => ids.includes(l.eventId));
    expect(rows.map((r) => r.eventId).sort()).toEqual([...ids].sort());
  });

  it('is append-only by default', async () => {
    const { id } = must((await logs('?limit=1'))[0], 'an audit entry');
    const put = await fetch(`${audit().daprUrl}/v1.0/invoke/audit/method/api/auditlogs/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ logMessage: 'rewritten', timeStamp: new Date().toISOString() }),
    });
    expect(put.status).toBe(403);
    expect(
      (await fetch(`${audit().daprUrl}/v1.0/invoke/audit/method/api/auditlogs/${id}`, { method: 'DELETE' })).status,
    ).toBe(403);
  });
});
