import { execFileSync } from 'node:child_process';
import { Stack, startStack } from '../../tools/stack';
import { createTestDatabases, runId } from '../../test/support/databases';
import { must } from '../../test/support/must';
import { waitUntil } from '../../test/support/wait';

interface Published {
  id: string;
  type: string;
  source: string;
  data: { eventId: string; eventType: string; product: { id: number } };
}

/** What the broker holds: the Redis stream Dapr's pub/sub component writes each CloudEvent to. */
function streamContents(topic: string): Published[] {
  const out = execFileSync('redis-cli', [
    '-h',
    '127.0.0.1',
    '-p',
    '6379',
    '--json',
    'XRANGE',
    topic,
    '-',
    '+',
  ]).toString();
  const entries = JSON.parse(out) as [string, string[]][];
  return entries.map(
    ([id, fields]) =>
      JSON.parse(must(fields[fields.indexOf('data') + 1], `the data of stream entry ${id}`)) as Published,
  );
}

/** The catalog alone behind a real daprd whose pub/sub is Redis Streams. */
describe('catalog publishing through its sidecar', () => {
  let stack: Stack;
  let drop: () => Promise<void>;
  const topic = `products-${runId()}`;

  beforeAll(async () => {
    const dbs = await createTestDatabases('postgres', ['catalog', 'audit'], 'pub');
    drop = dbs.drop;
    stack = await startStack({ ports: 'free', databases: dbs.names, topic, apps: ['catalog'] });
  });

  afterAll(async () => {
    await stack?.stop();
    execFileSync('redis-cli', ['DEL', topic]);
    await drop?.();
  });

  const post = (url: string, name: string) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, type: 'T', price: 1 }),
    });

  it('publishes exactly one CloudEvent per API call, carrying the event id', async () => {
    const catalog = stack.node('catalog');
    const ids: number[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(
        (
          (await (await post(`${catalog.daprUrl}/v1.0/invoke/catalog/method/api/products`, `P${i}`)).json()) as {
            id: number;
          }
        ).id,
      );
    await fetch(`${catalog.daprUrl}/v1.0/invoke/catalog/method/api/products/${ids[0]}`, { method: 'DELETE' });
    const events = await waitUntil('six events on the stream', async () => {
      const e = streamContents(topic);
      return e.length >= 6 ? e : undefined;
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(streamContents(topic)).toHaveLength(6);
    expect(events.filter((e) => e.type === 'product.created')).toHaveLength(5);
    // Order is kept per product (different products' events may interleave).
    expect(events.filter((e) => e.data.product.id === ids[0]).map((e) => e.type)).toEqual([
      'product.created',
      'product.deleted',
    ]);
    for (const e of events) {
      expect(e.id).toBe(e.data.eventId);
      expect(e.source).toBe('catalog');
    }
    expect(new Set(events.map((e) => e.id)).size).toBe(6);
  });

  it('keeps answering while its sidecar is down, and publishes what was written once it is back', async () => {
    const catalog = stack.node('catalog');
    const before = streamContents(topic).length;
    await catalog.sidecar.stop();
    for (let i = 0; i < 10; i++)
      expect((await post(`${catalog.appUrl}/api/products`, `Offline ${i}`)).status).toBe(201);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(streamContents(topic)).toHaveLength(before);
    await catalog.startSidecar();
    await waitUntil(
      'the ten offline events',
      async () => (streamContents(topic).length >= before + 10 ? true : undefined),
      30_000,
    );
    await new Promise((r) => setTimeout(r, 1_000));
    const after = streamContents(topic).slice(before);
    expect(after).toHaveLength(10);
    expect(new Set(after.map((e) => e.id)).size).toBe(10);
  });
});
