import { RequestHandler, Router } from 'express';
import type { Logger } from 'pino';
import type { DeadLetterConsumer } from '../use-cases/dead-letter-consumer';
import type { Delivery, DeliveryStatus, ProductEventConsumer } from '../use-cases/product-event-consumer';

/** The routes the declarative Subscriptions (components/shared/subscription.yaml) point daprd at. */
export const PRODUCT_EVENTS_ROUTE = '/events/products';
export const DEAD_LETTER_ROUTE = '/events/products-deadletter';

export interface SubscriptionsDeps {
  productEventConsumer: ProductEventConsumer;
  deadLetterConsumer: DeadLetterConsumer;
  logger: Logger;
}

interface BulkEntry {
  entryId?: unknown;
  event?: unknown;
}

/**
 * Delivery endpoints for daprd. Always 200 with an explicit status, for a single CloudEvent or a bulk
 * delivery ({ entries: [...] } → { statuses: [...] }).
 */
export function subscriptionsRouter({ productEventConsumer, deadLetterConsumer, logger }: SubscriptionsDeps): Router {
  const router = Router();
  router.post(PRODUCT_EVENTS_ROUTE, deliverProductEvents(productEventConsumer, logger));
  router.post(DEAD_LETTER_ROUTE, deliverDeadLetter(deadLetterConsumer));
  return router;
}

function deliverProductEvents(consumer: ProductEventConsumer, logger: Logger): RequestHandler {
  return async (req, res) => {
    const body: unknown = req.body;
    const entries = (body as { entries?: unknown })?.entries;
    const deliveries = Array.isArray(entries) ? bulkDeliveries(entries as BulkEntry[]) : [];
    try {
      if (Array.isArray(entries)) {
        const statuses = await consumer.consume(deliveries);
        res.json({ statuses: deliveries.map((d) => ({ entryId: d.key, status: statuses.get(d.key) ?? 'RETRY' })) });
        return;
      }
      const statuses = await consumer.consume([{ key: 'single', event: body }]);
      res.json({ status: statuses.get('single') ?? 'RETRY' });
    } catch (err) {
      logger.error({ err }, 'event route failed unexpectedly; asking for redelivery');
      res.json(
        Array.isArray(entries)
          ? { statuses: deliveries.map((d) => ({ entryId: d.key, status: 'RETRY' })) }
          : { status: 'RETRY' as DeliveryStatus },
      );
    }
  };
}

/** Each entry's id, or its position when daprd sent none: the same key in the success and error answers. */
function bulkDeliveries(entries: BulkEntry[]): Delivery[] {
  return entries.map((e, i) => ({ key: typeof e?.entryId === 'string' ? e.entryId : String(i), event: e?.event }));
}

function deliverDeadLetter(consumer: DeadLetterConsumer): RequestHandler {
  return async (req, res) => {
    res.json({ status: await consumer.consume(req.body) });
  };
}
