import pino from 'pino';
import type { AuditRow } from '../sinks/sink';
import { DeadLetterConsumer, ProductEventConsumer } from './consumer';
import { AuditSink, DeadLetterRow, SinkError } from '../sinks/sink';
import { validData } from '../../test/fixtures';

/** An in-memory sink with the same idempotency rule as the real ones, and switchable failures. */
class MemorySink implements AuditSink {
  rows = new Map<string, AuditRow>();
  deadLetters = new Map<string, DeadLetterRow>();
  failure?: SinkError;
  refuse?: (row: AuditRow) => boolean;
  calls = 0;

  async insertAuditLogs(rows: AuditRow[]) {
    this.calls++;
    if (this.failure) throw this.failure;
    if (rows.some((r) => this.refuse?.(r))) throw new SinkError('value too long (SQLSTATE 22001)', false);
    for (const r of rows) if (!this.rows.has(r.eventId)) this.rows.set(r.eventId, r);
  }

  async insertDeadLetter(row: DeadLetterRow) {
    if (this.failure) throw this.failure;
    if (!this.deadLetters.has(row.messageId)) this.deadLetters.set(row.messageId, row);
  }
}

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

describe('dead-letter consumer', () => {
  const logger = pino({ level: 'silent' });

  it('stores the raw message with its CloudEvent id and the reason it was refused', async () => {
    const sink = new MemorySink();
    const original = JSON.stringify({ id: 'ce-9', source: 'catalog', data: { eventType: 'nope' } });
    const status = await new DeadLetterConsumer(sink, logger).consume({
      topic: 'products-deadletter',
      data_base64: Buffer.from(original).toString('base64'),
    });
    expect(status).toBe('SUCCESS');
    const stored = sink.deadLetters.get('ce-9')!;
    expect(stored.payload).toBe(original);
    expect(stored.payloadEncoding).toBe('utf8');
    expect(stored.topic).toBe('products-deadletter');
    expect(stored.reason).toContain('eventType');
  });

  it('keeps bytes that are not even JSON, under a hash of their content', async () => {
    const sink = new MemorySink();
    await new DeadLetterConsumer(sink, logger).consume({
      topic: 't',
      data_base64: Buffer.from('\u0000garbage').toString('base64'),
    });
    const [stored] = [...sink.deadLetters.values()];
    expect(stored!.messageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    // NUL cannot be stored in a text column: such payloads are kept base64-encoded, byte for byte.
    expect(stored!.payloadEncoding).toBe('base64');
    expect(Buffer.from(stored!.payload, 'base64').toString()).toBe('\u0000garbage');
  });

  it('asks for redelivery when it cannot store', async () => {
    const sink = new MemorySink();
    sink.failure = new SinkError('down', true);
    expect(await new DeadLetterConsumer(sink, logger).consume({ topic: 't', data: { a: 1 } })).toBe('RETRY');
  });
});
