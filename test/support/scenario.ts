import { randomUUID } from 'node:crypto';
import type { AuditLogDto } from '../../audit/src/models';
import type { AppId, Stack } from '../../tools/stack';
import { waitUntil } from './wait';

export interface ExpectedEntry {
  eventType: string;
  subjectId: number;
  logMessage: string;
}

export interface ProductDto {
  id: number;
  name: string;
  type: string;
  price: number;
}

const json = (body: unknown) => ({ body });

/** What the scenario needs of a running system: service invocation through a sidecar (a local Stack, or a cluster's). */
export type Invoker = Pick<Stack, 'invoke'>;

/** Calls the Products API through the catalog's sidecar; fails loudly on an unexpected status. */
export async function productCall(
  stack: Invoker,
  method: string,
  path: string,
  expectedStatus: number,
  body?: unknown,
): Promise<Response> {
  const res = await stack.invoke('catalog', method, `/api/products${path}`, json(body));
  if (res.status !== expectedStatus)
    throw new Error(
      `${method} /api/products${path}: expected ${expectedStatus}, got ${res.status}: ${await res.text()}`,
    );
  return res;
}

/**
 * The scenario every broker and engine must pass: three creates, one update, one delete through
 * service invocation. Returns the audit entries they must produce, exactly.
 */
export async function changeProducts(stack: Invoker, tag = ''): Promise<ExpectedEntry[]> {
  const made: ProductDto[] = [];
  for (const [name, type, price] of [
    [`Pen${tag}`, 'Office', 2.5],
    [`Desk${tag}`, 'Furniture', 120],
    [`Lamp${tag}`, 'Lighting', 35.75],
  ] as const) {
    const res = await productCall(stack, 'POST', '', 201, { name, type, price });
    const product = (await res.json()) as ProductDto;
    if (res.headers.get('location') !== `/api/products/${product.id}`)
      throw new Error(`wrong Location: ${res.headers.get('location')}`);
    made.push(product);
  }
  const [pen, desk, lamp] = made as [ProductDto, ProductDto, ProductDto];
  await productCall(stack, 'PUT', `/${pen.id}`, 204, { id: pen.id, name: pen.name, type: 'Office', price: 3 });
  await productCall(stack, 'DELETE', `/${desk.id}`, 200);
  const added = (p: ProductDto) => ({
    eventType: 'product.created',
    subjectId: p.id,
    logMessage: `Product Added. Name - ${p.name}, Type - ${p.type}, Price - ${p.price}`,
  });
  return [
    added(pen),
    added(desk),
    added(lamp),
    {
      eventType: 'product.updated',
      subjectId: pen.id,
      logMessage: `Product Updated. Name - ${pen.name}, Type - Office, Price - 3`,
    },
    {
      eventType: 'product.deleted',
      subjectId: desk.id,
      logMessage: `Product Deleted. Name - ${desk.name}, Type - Furniture, Price - 120`,
    },
  ];
}

/** The audit trail, read through `via`'s sidecar (by default the catalog's: the cross-app path). */
export async function auditEntries(stack: Invoker, query = '', via: AppId = 'catalog'): Promise<AuditLogDto[]> {
  const res = await stack.invoke('audit', 'GET', `/api/auditlogs${query}`, { via });
  if (res.status !== 200) throw new Error(`GET /api/auditlogs${query}: ${res.status} ${await res.text()}`);
  return (await res.json()) as AuditLogDto[];
}

/** Waits until `count` entries match `filter`, then a little longer to catch any extra (duplicate) one. */
export async function settledEntries(
  stack: Invoker,
  count: number,
  filter: (e: AuditLogDto) => boolean = () => true,
  timeoutMs = 30_000,
): Promise<AuditLogDto[]> {
  await waitUntil(
    `${count} audit entries`,
    async () => ((await auditEntries(stack)).filter(filter).length >= count ? true : undefined),
    timeoutMs,
    200,
  );
  await new Promise((r) => setTimeout(r, 1_000));
  return (await auditEntries(stack)).filter(filter);
}

export const summarize = (entries: { eventType: string; subjectId: number | null; logMessage: string }[]) =>
  entries.map((e) => `${e.eventType}|${e.subjectId}|${e.logMessage}`).sort();

/** A complete CloudEvent published through `via`'s sidecar (it keeps the id as given), e.g. to redeliver one. */
export async function publishCloudEvent(stack: Stack, cloudEvent: object, via: AppId = 'catalog'): Promise<void> {
  const res = await fetch(`${stack.node(via).daprUrl}/v1.0/publish/pubsub/${stack.topic}`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify(cloudEvent),
  });
  if (res.status !== 204) throw new Error(`publish: ${res.status} ${await res.text()}`);
}

const VERBS: Record<string, string> = {
  'product.created': 'Added',
  'product.updated': 'Updated',
  'product.deleted': 'Deleted',
};

/**
 * A product event as the catalog publishes it, as a complete CloudEvent, for tests and the benchmark
 * that publish events themselves (to redeliver one, or to fill a backlog).
 */
export function productCloudEvent(
  productId: number,
  { eventId = randomUUID(), eventType = 'product.created', name = `P${productId}` } = {},
) {
  return {
    specversion: '1.0',
    id: eventId,
    source: 'catalog',
    type: eventType,
    datacontenttype: 'application/json',
    data: {
      eventId,
      eventType,
      occurredAt: new Date().toISOString(),
      product: { id: productId, name, type: 'T', price: 1 },
      message: `Product ${VERBS[eventType]}. Name - ${name}, Type - T, Price - 1`,
    },
  };
}
