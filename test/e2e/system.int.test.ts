import type { AuditLogDto } from '../../audit/src/models';
import { startStack, Stack } from '../../tools/stack/stack';
import { createTestDatabases, runId } from '../support/databases';
import { waitUntil } from '../support/wait';

/**
 * The whole system as `npm start` runs it: two daprd sidecars, both apps as processes, Redis Streams and
 * PostgreSQL, reached only through Dapr service invocation.
 */
describe('catalog + audit through their sidecars (Redis Streams, PostgreSQL)', () => {
  let stack: Stack;
  let dropDatabases: () => Promise<void>;

  beforeAll(async () => {
    const dbs = await createTestDatabases('postgres', ['catalog', 'audit'], 'e2e');
    dropDatabases = dbs.drop;
    stack = await startStack({ ports: 'free', databases: dbs.names, topic: `products-${runId()}` });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await dropDatabases?.();
  }, 60_000);

  const catalog = (method: string, path: string, body?: unknown) => stack.invoke('catalog', method, `/api/products${path}`, { body });
  const auditLogs = async (query = ''): Promise<AuditLogDto[]> => (await stack.invoke('audit', 'GET', `/api/auditlogs${query}`, { via: 'catalog' })).json() as Promise<AuditLogDto[]>;

  it('turns every create, update and delete into exactly one audit entry', async () => {
    const created: { id: number; name: string }[] = [];
    for (const [name, type, price] of [
      ['Pen', 'Office', 2.5],
      ['Desk', 'Furniture', 120],
      ['Lamp', 'Lighting', 35.75],
    ] as const) {
      const res = await catalog('POST', '', { name, type, price });
      expect(res.status).toBe(201);
      const product = (await res.json()) as { id: number; name: string };
      expect(res.headers.get('location')).toBe(`/api/products/${product.id}`);
      created.push(product);
    }
    const [pen, desk] = created as [(typeof created)[0], (typeof created)[0]];
    expect((await catalog('PUT', `/${pen.id}`, { id: pen.id, name: 'Pen', type: 'Office', price: 3 })).status).toBe(204);
    const deleted = await catalog('DELETE', `/${desk.id}`);
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toEqual({ id: desk.id, name: 'Desk', type: 'Furniture', price: 120 });

    const entries = await waitUntil('five audit entries', async () => {
      const all = await auditLogs();
      return all.length >= 5 ? all : undefined;
    });
    await new Promise((r) => setTimeout(r, 1_000)); // nothing more may arrive
    const final = await auditLogs();
    expect(final).toHaveLength(5);
    const summary = final.map((e) => [e.eventType, e.subjectId, e.logMessage]).sort((a, b) => String(a[2]).localeCompare(String(b[2])));
    expect(summary).toEqual(
      [
        ['product.created', pen.id, 'Product Added. Name - Pen, Type - Office, Price - 2.5'],
        ['product.created', desk.id, 'Product Added. Name - Desk, Type - Furniture, Price - 120'],
        ['product.created', created[2]!.id, 'Product Added. Name - Lamp, Type - Lighting, Price - 35.75'],
        ['product.updated', pen.id, 'Product Updated. Name - Pen, Type - Office, Price - 3'],
        ['product.deleted', desk.id, 'Product Deleted. Name - Desk, Type - Furniture, Price - 120'],
      ].sort((a, b) => String(a[2]).localeCompare(String(b[2]))),
    );
    expect(new Set(entries.map((e) => e.eventId)).size).toBe(entries.length);
    for (const e of final) {
      expect(e.source).toBe('catalog');
      expect(e.timeStamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    const onlyPen = await auditLogs(`?subjectId=${pen.id}&eventType=product.updated`);
    expect(onlyPen.map((e) => e.logMessage)).toEqual(['Product Updated. Name - Pen, Type - Office, Price - 3']);
  }, 60_000);

  it('keeps the API contract through the sidecar: problem+json errors, text/plain version', async () => {
    const missing = await catalog('GET', '/999999');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const invalid = await catalog('POST', '', { name: 'Pen', price: 'cheap' });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await invalid.json()) as { errors: { field: string }[] }).errors.map((e) => e.field).sort()).toEqual(['price', 'type']);
    expect((await catalog('GET', '/abc')).status).toBe(400);
    const version = await stack.invoke('catalog', 'GET', '/api/version');
    expect(version.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await version.text()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('serves the audit API append-only through invocation', async () => {
    const created = await stack.invoke('audit', 'POST', '/api/auditlogs', { body: { logMessage: 'manual note' }, via: 'catalog' });
    expect(created.status).toBe(201);
    const entry = (await created.json()) as AuditLogDto;
    expect(created.headers.get('location')).toBe(`/api/auditlogs/${entry.id}`);
    expect((await stack.invoke('audit', 'GET', `/api/auditlogs/${entry.id}`)).status).toBe(200);
    expect((await stack.invoke('audit', 'PUT', `/api/auditlogs/${entry.id}`, { body: { logMessage: 'x', timeStamp: new Date().toISOString() } })).status).toBe(403);
    expect((await stack.invoke('audit', 'DELETE', `/api/auditlogs/${entry.id}`)).status).toBe(403);
    expect((await stack.invoke('audit', 'GET', '/api/deadletters')).status).toBe(200);
  });
});
