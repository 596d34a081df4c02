import pino from 'pino';
import type { Sequelize } from 'sequelize';
import { inTransaction } from '@portable-dapr/common';
import { migratedDatabasePerFile } from '../../../test/support/databases';
import { waitUntil } from '../../../test/support/wait';
import { migrations } from '../migrations';
import { CatalogModels, initModels, OutboxEvent } from '../models';
import { recordProductEvent } from '../use-cases/products';
import type { EventPublisher, PublishOutcome } from './publisher';
import { OutboxRelay } from './relay';

/** A broker stand-in that records what it was given and can be told to fail. */
class RecordingPublisher implements EventPublisher {
  published: string[] = [];
  /** Each publish call's events. */
  batches: string[][] = [];
  ready = true;
  readinessAsked = 0;
  failFrom?: number;

  async isReady() {
    this.readinessAsked++;
    return this.ready;
  }

  async publish(events: OutboxEvent[]): Promise<PublishOutcome> {
    const outcome: PublishOutcome = { published: [], failed: [] };
    this.batches.push(events.map((e) => e.eventId));
    for (const e of events) {
      if (this.failFrom !== undefined && this.published.length >= this.failFrom)
        outcome.failed.push({ seq: e.seq, error: 'broker down' });
      else {
        this.published.push(e.eventId);
        outcome.published.push(e.seq);
      }
    }
    return outcome;
  }
}

describe('outbox relay (PostgreSQL)', () => {
  const logger = pino({ level: 'silent' });
  const db = migratedDatabasePerFile(migrations, 'relay');
  let sequelize: Sequelize;
  let models: CatalogModels;
  let publisher: RecordingPublisher;
  let relay: OutboxRelay;

  const record = (n: number) =>
    inTransaction(sequelize, async (t) => {
      for (let i = 1; i <= n; i++)
        await recordProductEvent(
          models.OutboxEvent,
          'product.created',
          { id: i, name: `P${i}`, type: 'T', price: i },
          t,
        );
    });
  const eventIds = async () => (await models.OutboxEvent.findAll({ order: [['seq', 'ASC']] })).map((e) => e.eventId);
  const pending = () => models.OutboxEvent.count({ where: { publishedAt: null } });

  beforeEach(() => {
    sequelize = db.sequelize();
    models = initModels(sequelize);
    publisher = new RecordingPublisher();
    relay = new OutboxRelay(sequelize, models.OutboxEvent, publisher, logger, {
      batchSize: 3,
      pollMs: 20,
      lingerMs: 0,
      maxBackoffMs: 50,
      retentionHours: 24,
    });
  });
  afterEach(() => relay.stop(0));

  it('publishes pending events in insertion order, a batch per round, and marks them published', async () => {
    await record(5);
    expect(await relay.runRound()).toEqual({ claimed: 3, published: 3, failed: false });
    expect(await relay.runRound()).toEqual({ claimed: 2, published: 2, failed: false });
    expect(await relay.runRound()).toEqual({ claimed: 0, published: 0, failed: false });
    expect(publisher.published).toEqual(await eventIds());
    expect(await pending()).toBe(0);
  });

  it('marks only what reached the broker, keeps the failed events pending, and counts their attempt', async () => {
    await record(3);
    publisher.failFrom = 1;
    expect(await relay.runRound()).toEqual({ claimed: 3, published: 1, failed: true });
    expect(await pending()).toBe(2);
    const failed = await models.OutboxEvent.findAll({ where: { publishedAt: null } });
    expect(failed.map((e) => [e.attempts, e.lastError])).toEqual([
      [1, 'broker down'],
      [1, 'broker down'],
    ]);
    publisher.failFrom = undefined;
    await relay.runRound();
    expect(publisher.published).toEqual(await eventIds());
  });

  it('claims nothing while the sidecar is not ready', async () => {
    await record(1);
    publisher.ready = false;
    expect(await relay.runRound()).toEqual({ claimed: 0, published: 0, failed: true, notReady: true });
    expect(await pending()).toBe(1);
  });

  it('asks the sidecar whether it is ready only at start and after a failed round', async () => {
    await record(1);
    await relay.runRound();
    await record(1);
    await relay.runRound();
    expect(publisher.readinessAsked).toBe(1);
    publisher.failFrom = 0;
    await record(1);
    expect((await relay.runRound()).failed).toBe(true);
    publisher.failFrom = undefined;
    await relay.runRound();
    await relay.runRound();
    expect(publisher.readinessAsked).toBe(2);
    expect(await pending()).toBe(0);
  });

  it('runs in the background: publishes on wake, and catches up after an outage without losing or repeating any', async () => {
    relay.start();
    await record(2);
    relay.wake();
    await waitUntil('the outbox to drain', async () => ((await pending()) === 0 ? true : undefined), 3_000, 10);
    publisher.failFrom = publisher.published.length; // the broker goes down
    await record(4);
    relay.wake();
    await new Promise((r) => setTimeout(r, 200));
    expect(await pending()).toBe(4);
    publisher.failFrom = undefined; // and comes back
    await waitUntil('the outbox to drain', async () => ((await pending()) === 0 ? true : undefined), 3_000, 10);
    expect(publisher.published).toEqual(await eventIds());
    expect(new Set(publisher.published).size).toBe(6);
  });

  it('lets the next batch gather for lingerMs after a round that found events', async () => {
    const lingering = new OutboxRelay(sequelize, models.OutboxEvent, publisher, logger, {
      batchSize: 10,
      pollMs: 60_000,
      lingerMs: 2_000,
      maxBackoffMs: 50,
      retentionHours: 24,
    });
    lingering.start();
    try {
      await record(1);
      lingering.wake();
      await waitUntil('the first event', async () => ((await pending()) === 0 ? true : undefined));
      // Two more commits right after that round: both wait for the linger, then go out together.
      await record(2);
      lingering.wake();
      lingering.wake();
      await new Promise((r) => setTimeout(r, 500));
      expect(await pending()).toBe(2);
      await waitUntil('the batch', async () => ((await pending()) === 0 ? true : undefined));
      expect(publisher.batches.map((b) => b.length)).toEqual([1, 2]);
    } finally {
      await lingering.stop(0);
    }
  });

  it('flushes what is pending when stopped', async () => {
    relay.start();
    await new Promise((r) => setTimeout(r, 30));
    publisher.ready = false;
    await record(7);
    publisher.ready = true;
    await relay.stop(2_000);
    expect(await pending()).toBe(0);
  });
});
