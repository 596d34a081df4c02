import express from 'express';
import pino from 'pino';
import request from 'supertest';
import type { DeadLetterConsumer } from '../use-cases/dead-letter-consumer';
import type { ProductEventConsumer } from '../use-cases/product-event-consumer';
import { PRODUCT_EVENTS_ROUTE, subscriptionsRouter } from './subscriptions';

const logger = pino({ level: 'silent' });
const appWith = (consume: ProductEventConsumer['consume']) =>
  express()
    .use(express.json())
    .use(
      subscriptionsRouter({
        productEventConsumer: { consume } as ProductEventConsumer,
        deadLetterConsumer: {} as DeadLetterConsumer,
        logger,
      }),
    );

describe('the bulk delivery route', () => {
  const entries = [{ entryId: 'a', event: {} }, { event: {} }];

  it('keys an entry daprd sent without an id by its position', async () => {
    const res = await request(appWith(async (ds) => new Map(ds.map((d) => [d.key, 'SUCCESS'] as const))))
      .post(PRODUCT_EVENTS_ROUTE)
      .send({ entries });
    expect(res.body).toEqual({
      statuses: [
        { entryId: 'a', status: 'SUCCESS' },
        { entryId: '1', status: 'SUCCESS' },
      ],
    });
  });

  it('answers RETRY for every entry, under the same keys, when handling fails unexpectedly', async () => {
    const res = await request(appWith(() => Promise.reject(new Error('boom'))))
      .post(PRODUCT_EVENTS_ROUTE)
      .send({ entries });
    expect(res.body).toEqual({
      statuses: [
        { entryId: 'a', status: 'RETRY' },
        { entryId: '1', status: 'RETRY' },
      ],
    });
  });
});
