import type { AuditLogDto } from '../../audit/src/models';
import { Stack, startStack } from '../../tools/stack';
import { createTestDatabases, runId } from '../support/databases';
import { must } from '../support/must';
import { settledEntries } from '../support/scenario';

/**
 * Malformed and adversarial requests, sent the documented way (through the sidecars). Each must be
 * refused with a 4xx, or, where it is valid data, stored verbatim; never a 5xx; the service stays healthy.
 */
type Expect = '4xx' | 'stored';
interface Case {
  label: string;
  method?: string;
  path?: string;
  app?: 'catalog' | 'audit';
  contentType?: string | null;
  body?: string;
  expect: Expect;
  /**
   * Sent to the app's own port: daprd 1.18 refuses a NUL in the method path itself, with a 500
   * (ERR_DIRECT_INVOKE, InvalidArgument), before the app sees it; the sidecar's answer is checked apart.
   */
  direct?: boolean;
}

const product = (fields: Record<string, unknown>) =>
  JSON.stringify({ name: 'Pen', type: 'Office', price: 2.5, ...fields });
const json = (label: string, body: string, expect: Expect = '4xx'): Case => ({ label, body, expect });
const name = (label: string, value: string): Case => ({ label, body: product({ name: value }), expect: 'stored' });
const path = (label: string, p: string, method = 'GET'): Case => ({
  label,
  method,
  path: p,
  body: method === 'GET' ? undefined : product({}),
  expect: '4xx',
});

const CASES: Case[] = [
  // Broken JSON
  json('unterminated object', '{"name":'),
  json('trailing comma', '{"name":"Pen","type":"T","price":1,}'),
  json('single quotes', "{'name':'Pen','type':'T','price':1}"),
  json('empty body', ''),
  json('null', 'null'),
  json('an array', '[{"name":"Pen"}]'),
  json('a bare string', '"Pen"'),
  json('a bare number', '42'),
  json('trailing garbage', `${product({})}xyz`),
  json('a NUL byte', '\u0000'),
  json('nesting 100k deep', '['.repeat(100_000) + ']'.repeat(100_000)),
  json('duplicate keys with a bad last value', '{"name":"Pen","type":"T","price":1,"price":"free"}'),
  // Wrong types and values
  json('numeric name', product({ name: 12 })),
  json('null name', product({ name: null })),
  json('array name', product({ name: ['Pen'] })),
  json('object name', product({ name: { $ne: '' } })),
  json('missing type', JSON.stringify({ name: 'Pen', price: 1 })),
  json('price as text', product({ price: '2.5' })),
  json('price "NaN"', product({ price: 'NaN' })),
  json('price "Infinity"', product({ price: 'Infinity' })),
  json('price 1e309 (overflows to Infinity)', '{"name":"Pen","type":"T","price":1e309}'),
  json('price 1e20', product({ price: 1e20 })),
  json('negative price', product({ price: -1 })),
  json('boolean price', product({ price: true })),
  json('null price', product({ price: null })),
  json('unknown field', product({ admin: true })),
  json('prototype pollution key', '{"name":"Pen","type":"T","price":1,"__proto__":{"admin":true}}'),
  json('an id in a create', product({ id: 99 })),
  json('101-character name', product({ name: 'x'.repeat(101) })),
  json('10 000-character name', product({ name: 'x'.repeat(10_000) })),
  json('1 MB body', product({ name: 'x'.repeat(1_100_000) })),
  json('NUL inside the name', product({ name: 'Pe\u0000n' })),
  json('newline inside the name', product({ name: 'Pen\nDROP' })),
  json('lone surrogate', '{"name":"Pen\\ud800","type":"T","price":1}'),
  json('blank name', product({ name: '   ' })),
  // Valid data that looks dangerous: stored and audited verbatim
  name('SQL injection', "'; DROP TABLE products; --"),
  name('SQL injection against the audit insert', "Robert'); DELETE FROM audit_logs;--"),
  name('placeholder look-alikes', '$1 ? :name @p0'),
  name('script tag', '<script>alert(1)</script>'),
  name('template expression', '{{7*7}} ${7*7}'),
  name('format string', '%s%n%x%d'),
  name('emoji family (ZWJ)', '👩‍👩‍👧‍👦'),
  name('right-to-left override', '\u202Eevil.exe'),
  name('combining accent', 'Cafe\u0301'),
  name('CJK', '钢笔'),
  name('quotes and backslashes', 'a "quoted" \\ back\\slash'),
  // Wrong content types
  { label: 'text/plain', contentType: 'text/plain', body: product({}), expect: '4xx' },
  {
    label: 'form encoded',
    contentType: 'application/x-www-form-urlencoded',
    body: 'name=Pen&type=T&price=1',
    expect: '4xx',
  },
  { label: 'no content type', contentType: null, body: product({}), expect: '4xx' },
  { label: 'UTF-16 charset', contentType: 'application/json; charset=utf-16', body: product({}), expect: '4xx' },
  {
    label: 'multipart',
    contentType: 'multipart/form-data; boundary=x',
    body: '--x\r\n\r\nPen\r\n--x--',
    expect: '4xx',
  },
  // Ids and query strings
  path('path traversal in an id', '/api/products/..%2F..%2Fetc%2Fpasswd'),
  path('SQL in an id', '/api/products/1%20OR%201=1'),
  { ...path('NUL in an id', '/api/products/%00'), direct: true },
  path('huge id', '/api/products/99999999999999999999'),
  path('negative id', '/api/products/-1'),
  path('decimal id', '/api/products/1.0'),
  path('hex id', '/api/products/0x10'),
  path('negative limit', '/api/products?limit=-1'),
  path('text limit', '/api/products?limit=all'),
  path('huge offset', '/api/products?offset=1e999'),
  path('array-style query', '/api/products?limit[]=1'),
  path('PATCH', '/api/products/1', 'PATCH'),
  path('PUT without id', '/api/products', 'PUT'),
  path('DELETE without id', '/api/products', 'DELETE'),
  path('PUT with a traversal id', '/api/products/..%2F1', 'PUT'),
  // The audit API
  { label: 'audit: bad date filter', app: 'audit', path: '/api/auditlogs?from=yesterday', expect: '4xx' },
  {
    label: 'audit: from after to',
    app: 'audit',
    path: '/api/auditlogs?from=2030-01-01T00:00:00Z&to=2020-01-01T00:00:00Z',
    expect: '4xx',
  },
  {
    label: 'audit: over-long message',
    app: 'audit',
    method: 'POST',
    path: '/api/auditlogs',
    body: JSON.stringify({ logMessage: 'x'.repeat(5_000) }),
    expect: '4xx',
  },
  {
    label: 'audit: edit',
    app: 'audit',
    method: 'PUT',
    path: '/api/auditlogs/1',
    body: JSON.stringify({ logMessage: 'x', timeStamp: '2020-01-01T00:00:00Z' }),
    expect: '4xx',
  },
  { label: 'audit: delete', app: 'audit', method: 'DELETE', path: '/api/auditlogs/1', expect: '4xx' },
];

describe('reliability: hostile input', () => {
  let stack: Stack;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const dbs = await createTestDatabases('postgres', ['catalog', 'audit'], 'hos');
    drop = dbs.drop;
    stack = await startStack({ ports: 'free', databases: dbs.names, topic: `products-${runId()}` });
  });

  afterAll(async () => {
    await stack?.stop();
    await drop?.();
  });

  it(`answers each of ${CASES.length} malformed or adversarial requests with a 4xx, or stores it verbatim`, async () => {
    expect(CASES.length).toBeGreaterThanOrEqual(50);
    const outcomes: { label: string; status: number; ok: boolean }[] = [];
    const stored: { label: string; id: number; name: string }[] = [];
    for (const c of CASES) {
      const headers: Record<string, string> = {};
      if (c.contentType !== null && c.body !== undefined) headers['content-type'] = c.contentType ?? 'application/json';
      const res = c.direct
        ? await fetch(`${stack.node(c.app ?? 'catalog').appUrl}${c.path}`, {
            method: c.method ?? 'POST',
            headers,
            body: c.body,
          })
        : await stack.invoke(c.app ?? 'catalog', c.method ?? 'POST', c.path ?? '/api/products', {
            headers,
            rawBody: c.body,
            via: 'catalog',
          });
      const text = await res.text();
      if (c.expect === 'stored') {
        const created = res.status === 201 ? (JSON.parse(text) as { id: number; name: string }) : undefined;
        const sent = (JSON.parse(must(c.body, `the body of ${c.label}`)) as { name: string }).name;
        outcomes.push({ label: c.label, status: res.status, ok: !!created && created.name === sent });
        if (created) stored.push({ label: c.label, id: created.id, name: sent });
      } else {
        const problem = res.headers.get('content-type')?.startsWith('application/problem+json') ?? false;
        outcomes.push({
          label: c.label,
          status: res.status,
          ok: res.status >= 400 && res.status < 500 && (problem || res.status === 404),
        });
      }
    }
    const wrong = outcomes.filter((o) => !o.ok);
    expect(wrong).toEqual([]);
    expect(outcomes.filter((o) => o.status >= 500)).toEqual([]);

    // The one request daprd refuses itself: it never reaches the app (see `direct` above).
    const nul = await stack.invoke('catalog', 'GET', '/api/products/%00');
    const refused = (await nul.json()) as { errorCode: string; message: string };
    expect(refused.errorCode).toBe('ERR_DIRECT_INVOKE');
    expect(refused.message).toContain('InvalidArgument');

    // Still healthy, and still working.
    expect((await fetch(`${stack.node('catalog').appUrl}/healthz`)).status).toBe(200);
    expect(
      (await stack.invoke('catalog', 'POST', '/api/products', { body: { name: 'After', type: 'T', price: 1 } })).status,
    ).toBe(201);

    // Stored strings round-trip unchanged: the product, and the audit row written through the SQL binding.
    const ids = new Set(stored.map((s) => s.id));
    const entries = await settledEntries(
      stack,
      stored.length,
      (e: AuditLogDto) => e.eventType === 'product.created' && e.subjectId !== null && ids.has(e.subjectId),
    );
    for (const s of stored) {
      const back = (await (await stack.invoke('catalog', 'GET', `/api/products/${s.id}`)).json()) as { name: string };
      expect({ label: s.label, name: back.name }).toEqual({ label: s.label, name: s.name });
      const entry = must(
        entries.find((e) => e.subjectId === s.id),
        `the audit entry of ${s.label}`,
      );
      expect({ label: s.label, name: (entry.payload as { product: { name: string } }).product.name }).toEqual({
        label: s.label,
        name: s.name,
      });
      expect(entry.logMessage).toBe(`Product Added. Name - ${s.name}, Type - Office, Price - 2.5`);
    }
  });
});
