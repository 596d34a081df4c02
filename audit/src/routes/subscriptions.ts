import { Router } from 'express';
import type { Logger } from 'pino';
import type { DeadLetterConsumer, Delivery, DeliveryStatus, ProductEventConsumer } from '../events/consumer';

/** The routes the declarative Subscriptions (components/shared/subscription.yaml) point daprd at. */
export const PRODUCT_EVENTS_ROUTE = '/events/products';
export const DEAD_LETTER_ROUTE = '/events/products-deadletter';

interface BulkEntry {
  entryId?: unknown;
  event?: unknown;
}

/**
 * Delivery endpoints for daprd. Always 200 with an explicit status, for a single CloudEvent or a bulk
 * delivery ({ entries: [...] } → { statuses: [...] }).
 */
export function eventsRouter(products: ProductEventConsumer, deadLetters: DeadLetterConsumer, logger: Logger): Router {
  const router = Router();

  router.post(PRODUCT_EVENTS_ROUTE, async (req, res) => {
    const body: unknown = req.body;
    const entries = (body as { entries?: unknown })?.entries;
    // Each entry's id, or its position when daprd sent none: the same key in the success and error answers.
    const deliveries: Delivery[] = Array.isArray(entries)
      ? (entries as BulkEntry[]).map((e, i) => ({
          key: typeof e?.entryId === 'string' ? e.entryId : String(i),
          event: e?.event,
        }))
      : [];
    try {
      if (Array.isArray(entries)) {
        const statuses = await products.consume(deliveries);
        res.json({ statuses: deliveries.map((d) => ({ entryId: d.key, status: statuses.get(d.key) ?? 'RETRY' })) });
        return;
      }
      const statuses = await products.consume([{ key: 'single', event: body }]);
      res.json({ status: statuses.get('single') ?? 'RETRY' });
    } catch (err) {
      logger.error({ err }, 'event route failed unexpectedly; asking for redelivery');
      res.json(
        Array.isArray(entries)
          ? { statuses: deliveries.map((d) => ({ entryId: d.key, status: 'RETRY' })) }
          : { status: 'RETRY' as DeliveryStatus },
      );
    }
  });

  router.post(DEAD_LETTER_ROUTE, async (req, res) => {
    res.json({ status: await deadLetters.consume(req.body) });
  });

  return router;
}
