/**
 * The raw write path: what the catalog does for POST /api/products, by hand on node:http and a pg Pool,
 * with the relay in the same process as the catalog's. Connection settings come from the standard
 * PGHOST/PGPORT/PGUSER variables; CATALOG_DB, PORT, REDIS_URL and STREAM from the benchmark.
 */
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { Redis } from 'ioredis';
import { Client, Pool } from 'pg';
import { checkProductBody, ProductBody } from './product-body';
import { productCreatedEvent } from './product-event';
import { RawRelay } from './relay';

/** The catalog's defaults: BODY_LIMIT 100kb, DB_POOL_MAX 10. */
const BODY_LIMIT = 100 * 1024;
const POOL_MAX = 10;

const INSERT_PRODUCT = 'INSERT INTO products (name, type, price) VALUES ($1, $2, $3) RETURNING id';
const INSERT_EVENT =
  'INSERT INTO outbox_events (event_id, event_type, subject_id, payload, created_at) VALUES ($1, $2, $3, $4, $5)';

interface Product extends ProductBody {
  id: number;
}

/**
 * The product and its event (the catalog's event data, catalog/src/events) in one transaction. The inserts
 * are named statements: prepared once per pooled connection.
 */
async function createProduct(pool: Pool, body: ProductBody): Promise<Product> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ id: number }>({
      name: 'product',
      text: INSERT_PRODUCT,
      values: [body.name, body.type, body.price],
    });
    const id = rows[0]?.id;
    if (id === undefined) throw new Error('the insert returned no id');
    const product = { id, ...body };
    const now = new Date();
    const event = productCreatedEvent(product, now);
    await client.query({
      name: 'event',
      text: INSERT_EVENT,
      values: [event.eventId, event.eventType, id, JSON.stringify(event), now],
    });
    await client.query('COMMIT');
    return product;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** The body as text, or undefined past the limit. */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= BODY_LIMIT) chunks.push(chunk);
    });
    req.on('end', () => resolve(size <= BODY_LIMIT ? Buffer.concat(chunks).toString('utf8') : undefined));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, pool: Pool, relay: RawRelay): Promise<void> {
  if (req.method === 'GET' && req.url === '/healthz') return send(res, 200, { status: 'ok' });
  if (req.method !== 'POST' || req.url !== '/api/products') return send(res, 404, { title: 'not found' });
  if (!/^application\/(.+\+)?json\b/.test(req.headers['content-type'] ?? ''))
    return send(res, 415, { title: 'send the body as application/json' });
  const text = await readBody(req);
  if (text === undefined) return send(res, 413, { title: 'the body is too large' });
  const json = parseJson(text);
  if (!json.ok) return send(res, 400, { title: 'the body is not JSON' });
  const checked = checkProductBody(json.value);
  if (!checked.ok) return send(res, 400, { title: 'invalid product', errors: checked.errors });
  const product = await createProduct(pool, checked.value);
  relay.wake();
  send(res, 201, product, { location: `/api/products/${product.id}` });
}

async function main(): Promise<void> {
  const { CATALOG_DB: database, STREAM: stream, REDIS_URL: redisUrl } = process.env;
  if (!database || !stream || !redisUrl) throw new Error('CATALOG_DB, STREAM and REDIS_URL are required');
  const pool = new Pool({ database, max: POOL_MAX });
  const relayDb = new Client({ database });
  await relayDb.connect();
  await relayDb.query('SET synchronous_commit TO OFF');
  const relay = new RawRelay(relayDb, new Redis(redisUrl), stream);
  void relay.run();
  const server = createServer((req, res) => {
    handle(req, res, pool, relay).catch((err: unknown) => {
      process.stderr.write(`request failed: ${String(err)}\n`);
      if (!res.headersSent) send(res, 500, { title: 'internal error' });
    });
  });
  // Loopback only, as the sidecars' APIs listen.
  server.listen(Number(process.env.PORT), '127.0.0.1');
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
