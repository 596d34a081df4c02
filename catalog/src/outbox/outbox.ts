import type { Transaction } from 'sequelize';
import type { OutboxEvent, ProductDto } from '../models';
import { productEvent, ProductEventType } from '../events/product-events';

/** Records the event for a product change inside the caller's transaction. */
export async function recordProductEvent(
  outbox: typeof OutboxEvent,
  type: ProductEventType,
  product: ProductDto,
  transaction: Transaction,
): Promise<void> {
  const event = productEvent(type, product);
  await outbox.create(
    {
      eventId: event.eventId,
      eventType: event.eventType,
      subjectId: product.id,
      payload: JSON.stringify(event),
      publishedAt: null,
      lastError: null,
    },
    { transaction },
  );
}
