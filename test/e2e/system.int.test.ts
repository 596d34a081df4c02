import { readFileSync } from 'node:fs';
import type { AuditLogDto } from '../../audit/src/models';
import { Stack, startStack } from '../../tools/stack';
import { createTestDatabases, runId } from '../support/databases';
import { must } from '../support/must';
import { auditEntries, changeProducts, productCall, settledEntries, summarize } from '../support/scenario';

/**
 * The whole system as `dapr run -f .` runs it (tools/stack starts the committed dapr.yaml by the CLI's
 * rules, with free ports and its own databases, topic and .dapr folder): two daprd sidecars, both apps,
 * Redis Streams and PostgreSQL, reached only through Dapr service invocation.
 */
describe('catalog + audit through their sidecars (Redis Streams, PostgreSQL)', () => {
  let stack: Stack;
  let dropDatabases: () => Promise<void>;

  beforeAll(async () => {
    const dbs = await createTestDatabases('postgres', ['catalog', 'audit'], 'e2e');
    dropDatabases = dbs.drop;
    stack = await startStack({ ports: 'free', databases: dbs.names, topic: `products-${runId()}` });
  });

  afterAll(async () => {
    await stack?.stop();
    await dropDatabases?.();
  });

  it('turns every create, update and delete into exactly one audit entry', async () => {
    const expected = await changeProducts(stack);
    const entries = await settledEntries(stack, expected.length);
    expect(summarize(entries)).toEqual(summarize(expected));
    expect(new Set(entries.map((e) => e.eventId)).size).toBe(entries.length);
    for (const e of entries) {
      expect(e.source).toBe('catalog');
      expect(e.timeStamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    const updated = must(expected[3], 'the fourth change (an update)');
    const filtered = await auditEntries(stack, `?subjectId=${updated.subjectId}&eventType=product.updated`);
    expect(filtered.map((e) => e.logMessage)).toEqual([updated.logMessage]);
  });

  it('keeps the API contract through the sidecar: problem+json errors, text/plain version', async () => {
    const missing = await stack.invoke('catalog', 'GET', '/api/products/999999');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const invalid = await stack.invoke('catalog', 'POST', '/api/products', { body: { name: 'Pen', price: 'cheap' } });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await invalid.json()) as { errors: { field: string }[] }).errors.map((e) => e.field).sort()).toEqual([
      'price',
      'type',
    ]);
    await productCall(stack, 'GET', '/abc', 400);
    const version = await stack.invoke('catalog', 'GET', '/api/version');
    expect(version.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await version.text()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('serves the audit API append-only through invocation', async () => {
    const created = await stack.invoke('audit', 'POST', '/api/auditlogs', {
      body: { logMessage: 'manual note' },
      via: 'catalog',
    });
    expect(created.status).toBe(201);
    const entry = (await created.json()) as AuditLogDto;
    expect(created.headers.get('location')).toBe(`/api/auditlogs/${entry.id}`);
    expect((await stack.invoke('audit', 'GET', `/api/auditlogs/${entry.id}`)).status).toBe(200);
    expect(
      (
        await stack.invoke('audit', 'PUT', `/api/auditlogs/${entry.id}`, {
          body: { logMessage: 'x', timeStamp: new Date().toISOString() },
        })
      ).status,
    ).toBe(403);
    expect((await stack.invoke('audit', 'DELETE', `/api/auditlogs/${entry.id}`)).status).toBe(403);
    expect((await stack.invoke('audit', 'GET', '/api/deadletters')).status).toBe(200);
  });

  it('pages through the sidecar: each rel="next" link, resolved against the URL requested, stays under the invocation path', async () => {
    for (const [app, path] of [
      ['catalog', '/api/products'],
      ['audit', '/api/auditlogs'],
    ] as const) {
      const seen: number[] = [];
      let url: string | undefined = `${stack.node('catalog').daprUrl}/v1.0/invoke/${app}/method${path}?limit=1`;
      while (url) {
        const res: Response = await fetch(url);
        expect(res.status).toBe(200);
        seen.push(...((await res.json()) as { id: number }[]).map((r) => r.id));
        const next = /^<([^>]*)>; rel="next"$/.exec(res.headers.get('link') ?? '')?.[1];
        url = next === undefined ? undefined : new URL(next, url).href;
        if (url) expect(url).toContain(`/v1.0/invoke/${app}/method${path}?`);
      }
      const all = ((await (await stack.invoke(app, 'GET', path)).json()) as { id: number }[]).map((r) => r.id);
      expect(all.length).toBeGreaterThan(1);
      expect(seen).toEqual(all);
    }
  });

  it('started both sidecars with no warning or error but those of a local run without mTLS, placement and scheduler', () => {
    const inherent = [
      /mTLS is disabled/,
      /placement service is not configured/,
      /No scheduler host addresses provided/,
    ];
    for (const id of ['catalog', 'audit']) {
      const lines = readFileSync(stack.logOf(`${id}-daprd`), 'utf8').split('\n');
      expect(lines.filter((l) => /level=(warning|error|fatal)/.test(l) && !inherent.some((p) => p.test(l)))).toEqual(
        [],
      );
    }
  });
});
