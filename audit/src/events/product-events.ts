import { z } from 'zod';
import type { AuditRow } from '../sinks/audit-sink';

/**
 * The catalog's product events as this service accepts them (see catalog/src/events). Unknown extra
 * fields are tolerated so the producer can add some; missing or mistyped ones make the event poison.
 */
export const PRODUCT_EVENT_TYPES = ['product.created', 'product.updated', 'product.deleted'] as const;

export const productEventData = z.object({
  eventId: z.string().min(1).max(64),
  eventType: z.enum(PRODUCT_EVENT_TYPES),
  occurredAt: z.iso.datetime({ offset: true }),
  product: z.object({
    id: z.number().int().positive().max(2_147_483_647),
    name: z.string().max(100),
    type: z.string().max(50),
    price: z.number(),
  }),
  message: z.string().min(1).max(1000),
});

export type ProductEventData = z.infer<typeof productEventData>;

/** The CloudEvent envelope daprd delivers, as far as this service reads it. */
export interface DeliveredCloudEvent {
  id?: unknown;
  source?: unknown;
  type?: unknown;
  topic?: unknown;
  data?: unknown;
  data_base64?: unknown;
}

export type Interpretation = { ok: true; row: AuditRow } | { ok: false; reason: string };

/** Turns a delivered CloudEvent into the row to write, or says why it is poison. */
export function interpretProductEvent(ce: unknown): Interpretation {
  if (typeof ce !== 'object' || ce === null || Array.isArray(ce))
    return { ok: false, reason: 'not a CloudEvent object' };
  const envelope = ce as DeliveredCloudEvent;
  if (envelope.data === undefined) {
    return {
      ok: false,
      reason: envelope.data_base64 !== undefined ? 'binary data, expected JSON' : 'the CloudEvent has no data',
    };
  }
  const parsed = productEventData.safeParse(envelope.data);
  if (!parsed.success) {
    return {
      ok: false,
      reason: parsed.error.issues
        .map((i) => `${i.path.join('.') || 'data'}: ${i.message}`)
        .join('; ')
        .slice(0, 1000),
    };
  }
  const data = parsed.data;
  return {
    ok: true,
    row: {
      eventId: data.eventId,
      eventType: data.eventType,
      source: typeof envelope.source === 'string' && envelope.source ? envelope.source.slice(0, 128) : 'unknown',
      subjectId: data.product.id,
      timeStamp: new Date(data.occurredAt),
      logMessage: data.message,
      payload: JSON.stringify(envelope.data),
    },
  };
}
