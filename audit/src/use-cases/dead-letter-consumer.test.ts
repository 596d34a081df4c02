import pino from 'pino';
import { SinkError } from '../sinks/audit-sink';
import { MemorySink } from '../../test/memory-sink';
import { DeadLetterConsumer } from './dead-letter-consumer';

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
    const stored = sink.deadLetters.get('ce-9');
    expect(stored).toMatchObject({ payload: original, payloadEncoding: 'utf8', topic: 'products-deadletter' });
    expect(stored?.reason).toContain('eventType');
  });

  it('keeps bytes that are not even JSON, under a hash of their content', async () => {
    const sink = new MemorySink();
    await new DeadLetterConsumer(sink, logger).consume({
      topic: 't',
      data_base64: Buffer.from('\u0000garbage').toString('base64'),
    });
    const [stored] = [...sink.deadLetters.values()];
    expect(stored?.messageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    // NUL cannot be stored in a text column: such payloads are kept base64-encoded, byte for byte.
    expect(stored?.payloadEncoding).toBe('base64');
    expect(Buffer.from(stored?.payload ?? '', 'base64').toString()).toBe('\u0000garbage');
  });

  it('asks for redelivery when it cannot store', async () => {
    const sink = new MemorySink();
    sink.failure = new SinkError('down', true);
    expect(await new DeadLetterConsumer(sink, logger).consume({ topic: 't', data: { a: 1 } })).toBe('RETRY');
  });
});
