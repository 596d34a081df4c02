import request from 'supertest';
import pino from 'pino';
import type { Express } from 'express';
import type { Sequelize } from 'sequelize';
import type { FieldProblem } from '@portable-dapr/common';
import { migratedDatabasePerFile } from '../../test/support/databases';
import { createApp } from './app';
import type { ProductEventData } from './events/product-events';
import { migrations } from './migrations';
import { CatalogModels, initModels, ProductDto } from './models';
import { Products } from './use-cases/products';

/** The HTTP contract in-process, on a throwaway PostgreSQL database: the code paths of production, row locks included. */
describe('catalog API (PostgreSQL)', () => {
  const logger = pino({ level: 'silent' });
  const db = migratedDatabasePerFile(migrations, 'catapi');
  let sequelize: Sequelize;
  let models: CatalogModels;
  let app: Express;
  let committed = 0;

  beforeEach(async () => {
    sequelize = db.sequelize();
    models = initModels(sequelize);
    committed = 0;
    app = createApp({
      shell: {
        logger,
        version: '9.9.9',
        bodyLimit: '1kb',
        readiness: { database: () => sequelize.authenticate().then(() => undefined) },
        isShuttingDown: () => false,
      },
      products: new Products(sequelize, models, () => committed++),
      maxPageSize: 3,
    });
  });

  /** What a 400 answer lists (common/src/http/problem.ts). */
  type Problem = { errors: FieldProblem[] };
  const pen = { name: 'Pen', type: 'Office', price: 2.5 };
  const outbox = async () =>
    (await models.OutboxEvent.findAll({ order: [['seq', 'ASC']] })).map((e) => ({
      type: e.eventType,
      subject: e.subjectId,
      data: JSON.parse(e.payload) as ProductEventData,
    }));

  it('creates with 201, a Location and the stored product, and records product.created', async () => {
    const res = await request(app).post('/api/products').send(pen).expect(201);
    expect(res.body).toEqual({ id: 1, ...pen });
    expect(res.headers.location).toBe('/api/products/1');
    expect(committed).toBe(1);
    const [event] = await outbox();
    expect(event).toMatchObject({
      type: 'product.created',
      subject: 1,
      data: {
        eventType: 'product.created',
        product: { id: 1, ...pen },
        message: 'Product Added. Name - Pen, Type - Office, Price - 2.5',
      },
    });
    expect(event?.data.eventId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('reads one and all, 404 for a missing id, 400 for a non-integer one', async () => {
    await request(app).post('/api/products').send(pen);
    await request(app)
      .get('/api/products')
      .expect(200, [{ id: 1, ...pen }]);
    await request(app)
      .get('/api/products/1')
      .expect(200, { id: 1, ...pen });
    const missing = await request(app).get('/api/products/2').expect(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    for (const bad of ['abc', '1.5', '-1', '0', '99999999999', '..%2F..%2Fetc%2Fpasswd']) {
      await request(app).get(`/api/products/${bad}`).expect(400);
    }
  });

  it('updates with 204 and records product.updated with the new values', async () => {
    await request(app).post('/api/products').send(pen);
    await request(app).put('/api/products/1').send({ id: 1, name: 'Pencil', type: 'Office', price: 1 }).expect(204);
    await request(app).get('/api/products/1').expect(200, { id: 1, name: 'Pencil', type: 'Office', price: 1 });
    expect((await outbox()).map((e) => [e.type, e.data.message])).toEqual([
      ['product.created', 'Product Added. Name - Pen, Type - Office, Price - 2.5'],
      ['product.updated', 'Product Updated. Name - Pencil, Type - Office, Price - 1'],
    ]);
  });

  it('refuses an update whose body id differs from the path (400) or whose product is absent (404), recording nothing', async () => {
    await request(app).post('/api/products').send(pen);
    const res = await request(app)
      .put('/api/products/1')
      .send({ id: 2, ...pen })
      .expect(400);
    expect((res.body as Problem).errors).toEqual([{ field: 'id', message: 'must match the id in the path' }]);
    await request(app).put('/api/products/7').send(pen).expect(404);
    expect(await outbox()).toHaveLength(1);
  });

  it('deletes with 200 and the deleted product, then 404', async () => {
    await request(app).post('/api/products').send(pen);
    await request(app)
      .delete('/api/products/1')
      .expect(200, { id: 1, ...pen });
    await request(app).delete('/api/products/1').expect(404);
    expect((await outbox()).map((e) => e.type)).toEqual(['product.created', 'product.deleted']);
  });

  it('pages with limit/offset, caps the page, and links the next page', async () => {
    for (let i = 0; i < 4; i++)
      await request(app)
        .post('/api/products')
        .send({ ...pen, name: `P${i}` });
    const first = await request(app).get('/api/products').expect(200);
    expect(first.body).toHaveLength(3);
    expect(first.headers.link).toBe('<?limit=3&offset=3>; rel="next"');
    // Resolved against the request URL, direct or through a sidecar, it stays under the same path.
    expect(new URL('?limit=3&offset=3', 'http://h/v1.0/invoke/catalog/method/api/products?limit=3').href).toBe(
      'http://h/v1.0/invoke/catalog/method/api/products?limit=3&offset=3',
    );
    const second = await request(app).get('/api/products?limit=3&offset=3').expect(200);
    expect((second.body as ProductDto[]).map((p) => p.name)).toEqual(['P3']);
    const tooMany = await request(app).get('/api/products?limit=4').expect(400);
    expect((tooMany.body as Problem).errors).toEqual([{ field: 'limit', message: 'must be at most 3' }]);
  });

  it('answers bad bodies with problem+json naming each field, and stores nothing', async () => {
    const res = await request(app)
      .post('/api/products')
      .send({ name: '', type: 7, price: -1, colour: 'red' })
      .expect(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect((res.body as Problem).errors).toEqual(
      expect.arrayContaining([
        { field: 'name', message: 'must not be empty' },
        { field: 'type', message: 'must be a string' },
        { field: 'price', message: 'must not be negative' },
        { field: 'colour', message: 'unknown field' },
      ]),
    );
    await request(app).post('/api/products').set('content-type', 'application/json').send('{"name":').expect(400);
    await request(app).post('/api/products').set('content-type', 'text/plain').send('name=Pen').expect(415);
    await request(app)
      .post('/api/products')
      .send({ ...pen, name: 'x'.repeat(2000) })
      .expect(413);
    await request(app).post('/api/products').set('content-type', 'application/json').send('[1,2]').expect(400);
    expect(await models.Product.count()).toBe(0);
    expect(await outbox()).toHaveLength(0);
  });

  it('answers the version as text, 405 for an unsupported verb and 404 for an unknown route', async () => {
    const v = await request(app).get('/api/version').expect(200);
    expect(v.headers['content-type']).toMatch(/^text\/plain/);
    expect(v.text).toBe('9.9.9');
    await request(app).patch('/api/products/1').expect(405).expect('allow', 'GET, PUT, DELETE');
    await request(app).get('/api/nothing').expect(404);
  });

  it('requires the dapr-api-token when APP_API_TOKEN is set, but not on health checks', async () => {
    const guarded = createApp({
      shell: {
        logger,
        version: '1',
        appApiToken: 's3cret',
        bodyLimit: '1kb',
        readiness: {},
        isShuttingDown: () => false,
      },
      products: new Products(sequelize, models),
      maxPageSize: 3,
    });
    await request(guarded).get('/api/products').expect(401);
    await request(guarded).get('/api/products').set('dapr-api-token', 'wrong').expect(401);
    await request(guarded).get('/api/products').set('dapr-api-token', 's3cret').expect(200);
    await request(guarded).get('/healthz').expect(200);
  });
});
