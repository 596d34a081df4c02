import { readFileSync } from 'node:fs';
import { databaseAdmin, type Stack } from '../../tools/stack';
import { stackPerTest } from '../support/lifecycle';
import { countBy, postProduct, runLoad, scaled } from '../support/load';
import { auditCounts, expectAudited, pendingOutbox, pgQuery } from '../support/sql';
import { ThrowawayPostgres, ThrowawayRedis } from '../support/throwaway';
import { sleep, waitUntil } from '../support/wait';

/**
 * Outages of one part at a time. Each scenario checks the database, not the API: every change made is
 * audited exactly once (as many product.created rows as products, each about a different product).
 */
const OUTAGE_SECONDS = Number(process.env.RELIABILITY_OUTAGE_SECONDS ?? 30);

const { start, onCleanup } = stackPerTest('rel');

const viaSidecar = (s: Stack) => `${s.node('catalog').daprUrl}/v1.0/invoke/catalog/method`;

describe('reliability: outages', () => {
  it('audit down: products created while audit and its sidecar are stopped are all audited once it is back', async () => {
    const { stack, dbs } = await start({});
    const n = scaled(1000);
    await stack.node('audit').stop();
    const statuses = await runLoad(n, 10, (i) => postProduct(viaSidecar(stack), `Offline ${i}`));
    expect(countBy(statuses)).toEqual({ 201: n });
    await stack.node('audit').start();
    await expectAudited(dbs.audit, { 'product.created': n });
  });

  it('broker down: the API keeps answering, the outbox grows, and every event is delivered once the broker is back', async () => {
    const redis = await ThrowawayRedis.create();
    onCleanup(() => redis.destroy());
    const { stack, dbs } = await start({ metadata: { pubsub: { redisHost: redis.address } } });
    const base = viaSidecar(stack);
    const before = scaled(50);
    expect(countBy(await runLoad(before, 5, (i) => postProduct(base, `Before ${i}`)))).toEqual({ 201: before });
    await expectAudited(dbs.audit, { 'product.created': before });

    await redis.stop();
    const created = scaled(30);
    const statuses = await runLoad(created, 5, (i) => postProduct(base, `During ${i}`));
    const ids = (await pgQuery<{ id: number }>(dbs.catalog, 'SELECT id FROM products ORDER BY id')).map((r) => r.id);
    const updates = ids.slice(0, scaled(20));
    const deletes = ids.slice(-scaled(10));
    // Any other answer is kept with its body, so a failure says what went wrong.
    const unexpected: string[] = [];
    const call = async (method: string, id: number, body?: object) => {
      const res = await fetch(`${base}/api/products/${id}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body && JSON.stringify(body),
      });
      if (res.status >= 300) unexpected.push(`${method} ${id}: ${res.status} ${await res.text()}`);
      return res.status;
    };
    for (const id of updates) statuses.push(await call('PUT', id, { name: `Upd ${id}`, type: 'T', price: 2 }));
    for (const id of deletes) statuses.push(await call('DELETE', id));
    expect(unexpected).toEqual([]);
    expect(countBy(statuses)).toEqual({ 201: created, 204: updates.length, 200: deletes.length });
    expect(await pendingOutbox(dbs.catalog)).toBe(created + updates.length + deletes.length);

    await redis.start();
    await expectAudited(dbs.audit, {
      'product.created': before + created,
      'product.updated': updates.length,
      'product.deleted': deletes.length,
    });
    expect(await pendingOutbox(dbs.catalog)).toBe(0);
  });

  it('sidecar crash: the catalog’s daprd killed with SIGKILL mid-load and restarted loses no event', async () => {
    const { stack, dbs } = await start({});
    const catalog = stack.node('catalog');
    const n = scaled(400);
    // The load goes to the app's own port so it carries on while its sidecar is dead.
    const load = runLoad(n, 5, (i) => postProduct(catalog.appUrl, `Crash ${i}`));
    await waitUntil(
      'a third of the load',
      async () => ((await auditCounts(dbs.audit)).rows >= n / 3 ? true : undefined),
      60_000,
      50,
    );
    await catalog.sidecar.kill();
    await sleep(1_000);
    await catalog.startSidecar();
    expect(countBy(await load)).toEqual({ 201: n });
    await expectAudited(dbs.audit, { 'product.created': n });
  });

  it(`database down under the consumer for ${OUTAGE_SECONDS} s under load: messages are retried, then all land once`, async () => {
    const pg = await ThrowawayPostgres.create();
    onCleanup(() => pg.destroy());
    await databaseAdmin('postgres', '127.0.0.1', pg.port).ensureDatabase('audit');
    const { stack } = await start({
      appEnv: { audit: { DB_PORT: String(pg.port), DB_NAME: 'audit' } },
      secrets: { 'audit-db-postgresql': `host=127.0.0.1 port=${pg.port} user=postgres dbname=audit sslmode=disable` },
    });
    const base = viaSidecar(stack);
    pg.stop();
    const outageEnds = Date.now() + OUTAGE_SECONDS * 1000;
    const statuses: number[] = [];
    let i = 0;
    while (Date.now() < outageEnds) {
      statuses.push(...(await runLoad(5, 5, () => postProduct(base, `Outage ${i++}`))));
      await sleep(200);
    }
    expect(readFileSync(stack.logOf('audit'), 'utf8').includes('asking for redelivery')).toBe(true);
    pg.start();
    expect(countBy(statuses)).toEqual({ 201: statuses.length });
    await expectAudited('audit', { 'product.created': statuses.length }, 180_000, pg.port);
  });
});
