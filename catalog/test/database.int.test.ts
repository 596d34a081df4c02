import pino from 'pino';
import request from 'supertest';
import type { Sequelize } from 'sequelize';
import { createSequelize, inTransaction, migrate } from '@portable-dapr/common';
import { createApp } from '../src/app';
import { migrations } from '../src/migrations';
import { CatalogModels, initModels, OutboxEvent } from '../src/models';
import { ProductChanges, recordProductEvent } from '../src/product-changes';
import type { EventPublisher, PublishOutcome } from '../src/outbox/publisher';
import { OutboxRelay } from '../src/outbox/relay';
import { createTestDatabases } from '../../test/support/databases';
import { SQL_VARIANTS, SqlEngine } from '../../tools/stack/variants';

const logger = pino({ level: 'silent' });

function connect(engine: SqlEngine, database: string, poolMax = 5): Sequelize {
  const env = SQL_VARIANTS[engine].appEnv;
  return createSequelize(
    {
      dialect: engine,
      host: env.DB_SERVER,
      port: Number(env.DB_PORT),
      user: env.DB_USER,
      database,
      poolMax,
      ssl: false,
    },
    logger,
  );
}

/** Records every event it is given; slow enough that two relays really overlap. */
class SlowRecorder implements EventPublisher {
  constructor(private readonly sink: string[]) {}
  async isReady() {
    return true;
  }
  async publish(events: OutboxEvent[]): Promise<PublishOutcome> {
    await new Promise((r) => setTimeout(r, 20));
    for (const e of events) this.sink.push(e.eventId);
    return { published: events.map((e) => e.seq), failed: [] };
  }
}

describe.each(['postgres', 'mariadb'] as const)('catalog on a real %s server', (engine) => {
  let drop: () => Promise<void>;
  let database: string;
  let sequelize: Sequelize;
  let models: CatalogModels;

  beforeAll(async () => {
    const dbs = await createTestDatabases(engine, ['catalog'], 'cat');
    drop = dbs.drop;
    database = dbs.names.catalog;
    // Three instances migrating at once, as three replicas starting together would.
    const racers = [connect(engine, database), connect(engine, database), connect(engine, database)];
    const applied = await Promise.all(racers.map((s) => migrate(s, migrations, logger)));
    await Promise.all(racers.map((s) => s.close()));
    expect(applied.flat().sort()).toEqual(migrations.map((m) => m.name).sort());
    sequelize = connect(engine, database);
    models = initModels(sequelize);
  }, 60_000);

  afterAll(async () => {
    await sequelize?.close();
    await drop?.();
  });

  beforeEach(async () => {
    await models.OutboxEvent.destroy({ where: {} });
    await models.Product.destroy({ where: {} });
  });

  const app = () =>
    createApp({
      shell: { logger, version: '1', bodyLimit: '100kb', readiness: {}, isShuttingDown: () => false },
      models,
      changes: new ProductChanges(sequelize, models),
      maxPageSize: 100,
    });

  it('keeps the contract and writes exactly one outbox event per change', async () => {
    const a = app();
    const created = await request(a)
      .post('/api/products')
      .send({ name: 'Stylo 🖊️ 笔', type: "O'Office", price: 2.5 })
      .expect(201);
    const id = created.body.id as number;
    await request(a).get(`/api/products/${id}`).expect(200, { id, name: 'Stylo 🖊️ 笔', type: "O'Office", price: 2.5 });
    await request(a).put(`/api/products/${id}`).send({ id, name: 'Pen', type: 'Office', price: 3.25 }).expect(204);
    await request(a).delete(`/api/products/${id}`).expect(200, { id, name: 'Pen', type: 'Office', price: 3.25 });
    const events = await models.OutboxEvent.findAll({ order: [['seq', 'ASC']] });
    expect(events.map((e) => [e.eventType, e.subjectId])).toEqual([
      ['product.created', id],
      ['product.updated', id],
      ['product.deleted', id],
    ]);
    expect(JSON.parse(events[0]!.payload).message).toBe(
      "Product Added. Name - Stylo 🖊️ 笔, Type - O'Office, Price - 2.5",
    );
  });

  it('commits a product and its event together or not at all', async () => {
    const failing = () => {
      throw new Error('outbox write failed');
    };
    models.OutboxEvent.addHook('beforeCreate', 'fail-once', failing);
    try {
      await request(app()).post('/api/products').send({ name: 'Ghost', type: 'T', price: 1 }).expect(500);
    } finally {
      models.OutboxEvent.removeHook('beforeCreate', 'fail-once');
    }
    expect(await models.Product.count()).toBe(0);
    expect(await models.OutboxEvent.count()).toBe(0);
  });

  it('lets two relays drain one outbox without publishing any event twice', async () => {
    await inTransaction(sequelize, async (t) => {
      for (let i = 1; i <= 300; i++)
        await recordProductEvent(
          models.OutboxEvent,
          'product.created',
          { id: i, name: `P${i}`, type: 'T', price: i },
          t,
        );
    });
    const seen: string[][] = [[], []];
    const second = connect(engine, database);
    const relays = [sequelize, second].map(
      (s, i) =>
        new OutboxRelay(s, initModels(s).OutboxEvent, new SlowRecorder(seen[i]!), logger, {
          batchSize: 25,
          pollMs: 10,
          maxBackoffMs: 50,
          retentionHours: 0,
        }),
    );
    const drain = async (r: OutboxRelay) => {
      for (;;) {
        const round = await r.runRound();
        if (round.claimed === 0) return;
      }
    };
    await Promise.all(relays.map(drain));
    await second.close();
    const all = [...seen[0]!, ...seen[1]!];
    expect(all).toHaveLength(300);
    expect(new Set(all).size).toBe(300);
    expect(seen[0]!.length).toBeGreaterThan(0);
    expect(seen[1]!.length).toBeGreaterThan(0);
    expect(await models.OutboxEvent.count({ where: { publishedAt: null } })).toBe(0);
  }, 60_000);
});
