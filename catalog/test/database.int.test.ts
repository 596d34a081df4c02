import pino from 'pino';
import request from 'supertest';
import type { Sequelize } from 'sequelize';
import { inTransaction, migrate } from '@portable-dapr/common';
import { createApp } from '../src/app';
import { migrations } from '../src/migrations';
import type { ProductEventData } from '../src/events/product-events';
import { CatalogModels, initModels, OutboxEvent, ProductDto } from '../src/models';
import { Products, recordProductEvent } from '../src/use-cases/products';
import type { EventPublisher, PublishOutcome } from '../src/outbox/publisher';
import { OutboxRelay } from '../src/outbox/relay';
import { connectTestDatabase, createTestDatabases } from '../../test/support/databases';
import { must } from '../../test/support/must';

const logger = pino({ level: 'silent' });

const connect = connectTestDatabase;

/** Records every event it is given, in one log shared by relays, after `delayMs` (the broker's round trip). */
class SharedLog implements EventPublisher {
  constructor(
    private readonly log: { subject: number; seq: number }[],
    private readonly delayMs: number,
  ) {}
  async isReady() {
    return true;
  }
  async publish(events: OutboxEvent[]): Promise<PublishOutcome> {
    await new Promise((r) => setTimeout(r, this.delayMs));
    for (const e of events) this.log.push({ subject: e.subjectId, seq: e.seq });
    return { published: events.map((e) => e.seq), failed: [] };
  }
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
  });

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
      products: new Products(sequelize, models),
      maxPageSize: 100,
    });

  it('keeps the contract and writes exactly one outbox event per change', async () => {
    const a = app();
    const created = await request(a)
      .post('/api/products')
      .send({ name: 'Stylo 🖊️ 笔', type: "O'Office", price: 2.5 })
      .expect(201);
    const { id } = created.body as ProductDto;
    await request(a).get(`/api/products/${id}`).expect(200, { id, name: 'Stylo 🖊️ 笔', type: "O'Office", price: 2.5 });
    await request(a).put(`/api/products/${id}`).send({ id, name: 'Pen', type: 'Office', price: 3.25 }).expect(204);
    await request(a).delete(`/api/products/${id}`).expect(200, { id, name: 'Pen', type: 'Office', price: 3.25 });
    const events = await models.OutboxEvent.findAll({ order: [['seq', 'ASC']] });
    expect(events.map((e) => [e.eventType, e.subjectId])).toEqual([
      ['product.created', id],
      ['product.updated', id],
      ['product.deleted', id],
    ]);
    expect((JSON.parse(must(events[0], 'the first event').payload) as ProductEventData).message).toBe(
      "Product Added. Name - Stylo 🖊️ 笔, Type - O'Office, Price - 2.5",
    );
  });

  it('commits a product and its event together or not at all', async () => {
    // The database itself refuses this product's event, after the product's row went in.
    await sequelize.query("ALTER TABLE outbox_events ADD CONSTRAINT no_ghosts CHECK (payload NOT LIKE '%Ghost%')");
    try {
      await request(app()).post('/api/products').send({ name: 'Ghost', type: 'T', price: 1 }).expect(500);
    } finally {
      await sequelize.query('ALTER TABLE outbox_events DROP CONSTRAINT no_ghosts');
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
    const seen: [string[], string[]] = [[], []];
    const second = connect(engine, database);
    const relays = (
      [
        [sequelize, seen[0]],
        [second, seen[1]],
      ] as const
    ).map(
      ([s, into]) =>
        new OutboxRelay(s, initModels(s).OutboxEvent, new SlowRecorder(into), logger, {
          batchSize: 25,
          pollMs: 10,
          lingerMs: 0,
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
    const all = [...seen[0], ...seen[1]];
    expect(all).toHaveLength(300);
    expect(new Set(all).size).toBe(300);
    expect(seen[0].length).toBeGreaterThan(0);
    expect(seen[1].length).toBeGreaterThan(0);
    expect(await models.OutboxEvent.count({ where: { publishedAt: null } })).toBe(0);
  });

  it("keeps each product's events in order across two relays, a slow one and a fast one", async () => {
    const products = 40;
    const rounds = 5;
    // Interleaved: every product changes in round 1, then every product again in round 2, ...
    await inTransaction(sequelize, async (t) => {
      for (let round = 1; round <= rounds; round++)
        for (let id = 1; id <= products; id++)
          await recordProductEvent(
            models.OutboxEvent,
            round === 1 ? 'product.created' : 'product.updated',
            { id, name: `P${id}`, type: 'T', price: round },
            t,
          );
    });
    const log: { subject: number; seq: number }[] = [];
    const second = connect(engine, database);
    // The slow relay claims first; the fast one would overtake it on any product they shared.
    const relay = (s: Sequelize, delayMs: number) =>
      new OutboxRelay(s, initModels(s).OutboxEvent, new SharedLog(log, delayMs), logger, {
        batchSize: 25,
        pollMs: 10,
        lingerMs: 0,
        maxBackoffMs: 50,
        retentionHours: 0,
      });
    const [slow, fast] = [relay(sequelize, 60), relay(second, 1)];
    const drain = async (r: OutboxRelay, startAfterMs: number) => {
      await new Promise((resolve) => setTimeout(resolve, startAfterMs));
      while ((await models.OutboxEvent.count({ where: { publishedAt: null } })) > 0) await r.runRound();
    };
    await Promise.all([drain(slow, 0), drain(fast, 10)]);
    await second.close();
    expect(log).toHaveLength(products * rounds);
    expect(new Set(log.map((e) => e.seq)).size).toBe(products * rounds);
    const lastSeq = new Map<number, number>();
    const outOfOrder = new Set<number>();
    for (const e of log) {
      if ((lastSeq.get(e.subject) ?? 0) > e.seq) outOfOrder.add(e.subject);
      lastSeq.set(e.subject, e.seq);
    }
    expect([...outOfOrder]).toEqual([]);
  });
});
