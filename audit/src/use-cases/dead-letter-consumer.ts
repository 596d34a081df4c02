import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { interpretProductEvent } from '../events/product-events';
import type { AuditSink } from '../sinks/audit-sink';
import type { DeliveryStatus } from './product-event-consumer';

/**
 * Keeps what reaches the dead-letter topic. The subscription uses rawPayload, so any bytes at all
 * (even ones that are not a CloudEvent) arrive here wrapped, and are stored verbatim with the reason
 * the product route would give.
 */
export class DeadLetterConsumer {
  constructor(
    private readonly sink: AuditSink,
    private readonly logger: Logger,
  ) {}

  async consume(envelope: unknown): Promise<DeliveryStatus> {
    try {
      const e = (envelope ?? {}) as { data?: unknown; data_base64?: unknown; topic?: unknown };
      const bytes =
        typeof e.data_base64 === 'string'
          ? Buffer.from(e.data_base64, 'base64')
          : Buffer.from(JSON.stringify(e.data ?? null));
      const text = storableText(bytes);
      const original = text === undefined ? undefined : parseJson(text);
      const interpreted = interpretProductEvent(original);
      const id = (original as { id?: unknown } | undefined)?.id;
      await this.sink.insertDeadLetter({
        messageId:
          typeof id === 'string' && id.length > 0 && id.length <= 128
            ? id
            : `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
        topic: typeof e.topic === 'string' ? e.topic.slice(0, 255) : 'unknown',
        receivedAt: new Date(),
        reason: interpreted.ok ? 'delivery failed after retries (the event itself is valid)' : interpreted.reason,
        payload: text ?? bytes.toString('base64'),
        payloadEncoding: text === undefined ? 'base64' : 'utf8',
      });
      this.logger.warn({ messageId: id }, 'dead letter stored');
      return 'SUCCESS';
    } catch (err) {
      this.logger.error({ err }, 'could not store a dead letter; asking for redelivery');
      return 'RETRY';
    }
  }
}

/** The bytes as text, if a text column can hold them unchanged: valid UTF-8 without NUL. */
function storableText(bytes: Buffer): string | undefined {
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) && !text.includes('\u0000') ? text : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
