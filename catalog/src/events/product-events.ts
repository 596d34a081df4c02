import { randomUUID } from 'node:crypto';
import type { ProductDto } from '../models';

/**
 * The events the catalog publishes on its product topic, one per change. Dapr wraps the data in a
 * CloudEvent whose id, type, source and subject are set from it (outbox/publisher.ts).
 */
export const PRODUCT_EVENT_TYPES = ['product.created', 'product.updated', 'product.deleted'] as const;
export type ProductEventType = (typeof PRODUCT_EVENT_TYPES)[number];

export const EVENT_SOURCE = 'catalog';

export interface ProductEventData {
  eventId: string;
  eventType: ProductEventType;
  /** When the change was made (UTC, ISO-8601). */
  occurredAt: string;
  product: ProductDto;
  /** The human-readable audit text, worded as the .NET service wrote it so existing readers keep working. */
  message: string;
}

const VERB: Record<ProductEventType, string> = {
  'product.created': 'Added',
  'product.updated': 'Updated',
  'product.deleted': 'Deleted',
};

export function auditMessage(type: ProductEventType, p: ProductDto): string {
  return `Product ${VERB[type]}. Name - ${p.name}, Type - ${p.type}, Price - ${p.price}`;
}

export function productEvent(type: ProductEventType, product: ProductDto, now = new Date()): ProductEventData {
  return {
    eventId: randomUUID(),
    eventType: type,
    occurredAt: now.toISOString(),
    product,
    message: auditMessage(type, product),
  };
}
