import { interpretProductEvent } from './product-events';
import { validData } from '../../test/fixtures';

const cloudEvent = (data: unknown) => ({
  id: 'ce-1',
  source: 'catalog',
  type: 'product.created',
  specversion: '1.0',
  datacontenttype: 'application/json',
  topic: 'products',
  data,
});

describe('interpreting a delivered product event', () => {
  it('maps a valid event to its audit row (UTC time of the change, event data kept as JSON)', () => {
    const result = interpretProductEvent(cloudEvent(validData));
    expect(result).toEqual({
      ok: true,
      row: {
        eventId: validData.eventId,
        eventType: 'product.created',
        source: 'catalog',
        subjectId: 7,
        timeStamp: new Date('2026-01-02T03:04:05.678Z'),
        logMessage: validData.message,
        payload: JSON.stringify(validData),
      },
    });
  });

  it('tolerates fields it does not know (the producer may add some)', () => {
    expect(interpretProductEvent(cloudEvent({ ...validData, extra: { x: 1 } })).ok).toBe(true);
  });

  it.each([
    ['not an object', 'hello', 'not a CloudEvent object'],
    ['no data', { id: 'x' }, 'the CloudEvent has no data'],
    ['binary data', { id: 'x', data_base64: 'AAEC' }, 'binary data, expected JSON'],
    ['an unknown event type', cloudEvent({ ...validData, eventType: 'product.exploded' }), 'eventType'],
    ['a product without id', cloudEvent({ ...validData, product: { name: 'Pen' } }), 'product.id'],
    ['a time without zone', cloudEvent({ ...validData, occurredAt: '2026-01-02 03:04' }), 'occurredAt'],
    ['an over-long message', cloudEvent({ ...validData, message: 'm'.repeat(1001) }), 'message'],
  ])('calls %s poison, saying why', (_label, event, reason) => {
    const result = interpretProductEvent(event);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain(reason);
  });
});
