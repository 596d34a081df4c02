import { randomUUID } from 'node:crypto';
import type { ProductBody } from './product-body';

/** The event data of a new product, as the catalog records it (catalog/src/events). */
export function productCreatedEvent(product: ProductBody & { id: number }, now: Date) {
  return {
    eventId: randomUUID(),
    eventType: 'product.created',
    occurredAt: now.toISOString(),
    product,
    message: `Product Added. Name - ${product.name}, Type - ${product.type}, Price - ${product.price}`,
  };
}
