import pino from 'pino';
import { SinkError } from '../sinks/audit-sink';
import { MemorySink } from '../../test/memory-sink';
import { validData } from '../../test/fixtures';
import { ProductEventConsumer } from './product-event-consumer';

const event = (eventId: string, extra: object = {}) => ({
  id: eventId,
  source: 'catalog',
  data: { ...validData, eventId, ...extra },
});

describe('product event consumer', () => {
  const logger = pino({ level: 'silent' });
  let sink: MemorySink;
  let consumer: ProductEventConsumer;
  beforeEach(() => {
    sink = new MemorySink();
    consumer = new ProductEventConsumer(sink, logger);
  });

  it('answers SUCCESS for written events and DROP for poison, in one multi-row insert', async () => {
    const statuses = await consumer.consume([
      { key: '1', event: event('a') },
      { key: '2', event: { data: { nonsense: true } } },
      { key: '3', event: event('b') },
    ]);
    expect(Object.fromEntries(statuses)).toEqual({ 1: 'SUCCESS', 2: 'DROP', 3: 'SUCCESS' });
    expect(sink.calls).toBe(1);
    expect([...sink.rows.keys()]).toEqual(['a', 'b']);
  });

  it('keeps one row for an event delivered twice, even within one batch', async () => {
    await consumer.consume([{ key: '1', event: event('a') }]);
    const statuses = await consumer.consume([
      { key: '1', event: event('a') },
      { key: '2', event: event('a') },
    ]);
    expect([...statuses.values()]).toEqual(['SUCCESS', 'SUCCESS']);
    expect(sink.rows.size).toBe(1);
  });

  it('asks for redelivery (RETRY) when the database is unavailable', async () => {
    sink.failure = new SinkError('connection refused', true);
    expect(Object.fromEntries(await consumer.consume([{ key: '1', event: event('a') }]))).toEqual({ 1: 'RETRY' });
  });

  it('isolates the one event the database refuses, and writes the others', async () => {
    sink.refuse = (r) => r.eventId === 'bad';
    const statuses = await consumer.consume([
      { key: '1', event: event('a') },
      { key: '2', event: event('bad') },
      { key: '3', event: event('c') },
    ]);
    expect(Object.fromEntries(statuses)).toEqual({ 1: 'SUCCESS', 2: 'DROP', 3: 'SUCCESS' });
    expect([...sink.rows.keys()]).toEqual(['a', 'c']);
  });
});
