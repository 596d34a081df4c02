import request from 'supertest';
import pino from 'pino';
import type { Express } from 'express';
import type { Sequelize } from 'sequelize';
import { migratedDatabasePerFile } from '../../test/support/databases';
import { must } from '../../test/support/must';
import { validData } from '../test/fixtures';
import { createApp } from './app';
import { migrations } from './migrations';
import { AuditLogDto, AuditModels, DeadLetterDto, initModels } from './models';
import { SequelizeSink } from './sinks/sequelize-sink';
import { AuditLogs } from './use-cases/audit-logs';
import { DeadLetterConsumer } from './use-cases/dead-letter-consumer';
import { DeadLetters } from './use-cases/dead-letters';
import { ProductEventConsumer } from './use-cases/product-event-consumer';

/** The audit HTTP surface in-process on a throwaway PostgreSQL database (the Sequelize sink): API contract and delivery routes. */
describe('audit API (PostgreSQL)', () => {
  const logger = pino({ level: 'silent' });
  const db = migratedDatabasePerFile(migrations, 'audapi');
  let sequelize: Sequelize;
  let models: AuditModels;
  const app = (allowMutations = false): Express => {
    const sink = new SequelizeSink(models);
    return createApp({
      shell: { logger, version: '2.0.0', bodyLimit: '4mb', readiness: {}, isShuttingDown: () => false },
      auditLogs: new AuditLogs(models, allowMutations),
      deadLetters: new DeadLetters(models),
      productEventConsumer: new ProductEventConsumer(sink, logger),
      deadLetterConsumer: new DeadLetterConsumer(sink, logger),
      maxPageSize: 50,
    });
  };

  beforeEach(async () => {
    sequelize = db.sequelize();
    models = initModels(sequelize);
  });

  const ce = (eventId: string, data: object = { ...validData, eventId }) => ({
    id: eventId,
    source: 'catalog',
    type: 'product.created',
    specversion: '1.0',
    data,
  });

  it('answers a single delivery with an explicit status', async () => {
    await request(app())
      .post('/events/products')
      .set('content-type', 'application/cloudevents+json')
      .send(JSON.stringify(ce('a')))
      .expect(200, { status: 'SUCCESS' });
    await request(app())
      .post('/events/products')
      .set('content-type', 'application/cloudevents+json')
      .send(JSON.stringify(ce('x', { nope: 1 })))
      .expect(200, { status: 'DROP' });
    const [row] = (await request(app()).get('/api/auditlogs').expect(200)).body as AuditLogDto[];
    expect(row).toMatchObject({
      eventId: 'a',
      eventType: 'product.created',
      subjectId: validData.product.id,
      logMessage: validData.message,
      timeStamp: validData.occurredAt,
    });
    expect(row?.recordedAt).toMatch(/Z$/);
  });

  it('answers a bulk delivery entry by entry, with one row per event id', async () => {
    const body = {
      id: 'bulk-1',
      topic: 'products',
      pubsubname: 'pubsub',
      type: 'com.dapr.event.sent.bulk',
      entries: [
        { entryId: 'e1', event: ce('a'), contentType: 'application/cloudevents+json' },
        { entryId: 'e2', event: ce('bad', { eventType: 'x' }), contentType: 'application/cloudevents+json' },
        { entryId: 'e3', event: ce('a'), contentType: 'application/cloudevents+json' },
        { entryId: 'e4', event: ce('b'), contentType: 'application/cloudevents+json' },
      ],
    };
    const res = await request(app()).post('/events/products').send(body).expect(200);
    expect(res.body).toEqual({
      statuses: [
        { entryId: 'e1', status: 'SUCCESS' },
        { entryId: 'e2', status: 'DROP' },
        { entryId: 'e3', status: 'SUCCESS' },
        { entryId: 'e4', status: 'SUCCESS' },
      ],
    });
    expect((await models.AuditLog.findAll()).map((r) => r.eventId).sort()).toEqual(['a', 'b']);
  });

  it('keeps a dead letter and shows it', async () => {
    const raw = JSON.stringify(ce('poison', { bad: true }));
    await request(app())
      .post('/events/products-deadletter')
      .send({ topic: 'products-deadletter', data_base64: Buffer.from(raw).toString('base64') })
      .expect(200, { status: 'SUCCESS' });
    const [dead] = (await request(app()).get('/api/deadletters').expect(200)).body as DeadLetterDto[];
    expect(dead).toMatchObject({
      messageId: 'poison',
      topic: 'products-deadletter',
      payload: raw,
      payloadEncoding: 'utf8',
    });
    await request(app())
      .get(`/api/deadletters/${must(dead, 'a dead letter').id}`)
      .expect(200);
    await request(app()).get('/api/deadletters/999').expect(404);
  });

  it('filters and pages the trail', async () => {
    for (const [id, type, subject] of [
      ['a', 'product.created', 1],
      ['b', 'product.updated', 1],
      ['c', 'product.created', 2],
    ] as const) {
      await request(app())
        .post('/events/products')
        .send(ce(id, { ...validData, eventId: id, eventType: type, product: { ...validData.product, id: subject } }));
    }
    const ids = async (q: string) =>
      ((await request(app()).get(`/api/auditlogs${q}`).expect(200)).body as AuditLogDto[]).map((r) => r.eventId);
    expect(await ids('?eventType=product.created')).toEqual(['a', 'c']);
    expect(await ids('?subjectId=1')).toEqual(['a', 'b']);
    expect(await ids('?limit=1&offset=1')).toEqual(['b']);
    expect(
      await ids(
        `?from=${encodeURIComponent('2026-01-02T03:04:05.678Z')}&to=${encodeURIComponent('2026-01-02T03:04:05.678Z')}`,
      ),
    ).toEqual(['a', 'b', 'c']);
    expect(await ids('?from=2030-01-01T00:00:00Z')).toEqual([]);
    const page = await request(app()).get('/api/auditlogs?eventType=product.created&limit=1').expect(200);
    expect(page.headers.link).toBe('<?eventType=product.created&limit=1&offset=1>; rel="next"');
    expect((await request(app()).get('/api/auditlogs?eventType=product.created&limit=1&offset=1')).headers.link).toBe(
      '<?eventType=product.created&limit=1&offset=2>; rel="next"',
    );
    expect((await request(app()).get('/api/auditlogs?eventType=product.created&limit=3')).headers.link).toBeUndefined();
    await request(app()).get('/api/auditlogs?from=yesterday').expect(400);
    await request(app()).get('/api/auditlogs?limit=51').expect(400);
  });

  it('keeps the original routes: 201 + Location on POST; PUT and DELETE 403 unless mutations are allowed', async () => {
    const created = await request(app()).post('/api/auditlogs').send({ logMessage: 'hand-written' }).expect(201);
    const { id } = created.body as AuditLogDto;
    expect(created.headers.location).toBe(`/api/auditlogs/${id}`);
    expect(created.body).toMatchObject({ logMessage: 'hand-written', source: 'api', eventType: 'manual' });
    const edit = { logMessage: 'rewritten', timeStamp: '2026-02-03T04:05:06Z' };
    const forbidden = await request(app()).put(`/api/auditlogs/${id}`).send(edit).expect(403);
    expect(forbidden.headers['content-type']).toMatch(/^application\/problem\+json/);
    await request(app()).delete(`/api/auditlogs/${id}`).expect(403);
    await request(app(true)).put(`/api/auditlogs/${id}`).send(edit).expect(204);
    await request(app(true))
      .put(`/api/auditlogs/${id}`)
      .send({ ...edit, id: id + 1 })
      .expect(400);
    const deleted = await request(app(true)).delete(`/api/auditlogs/${id}`).expect(200);
    expect(deleted.body).toMatchObject({ id, logMessage: 'rewritten', timeStamp: '2026-02-03T04:05:06.000Z' });
    await request(app(true)).delete(`/api/auditlogs/${id}`).expect(404);
    await request(app()).get('/api/auditlogs/abc').expect(400);
  });

  it('answers the version as text', async () => {
    const res = await request(app()).get('/api/version').expect(200);
    expect(res.text).toBe('2.0.0');
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
  });
});
