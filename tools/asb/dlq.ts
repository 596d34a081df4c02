import type { ServiceBusMessage, ServiceBusReceivedMessage } from '@azure/service-bus';

/**
 * The broker's own dead-letter queue of a subscription ($DeadLetterQueue): messages Service Bus gave up
 * on (maxDeliveryCount deliveries without completion, or expired). Not to be confused with Dapr's
 * dead-letter topic (products-deadletter), where daprd moves events the app refused and which the
 * audit app keeps in its dead_letters table.
 */

/** The parts of ServiceBusClient, its receiver and its sender this uses (tests pass fakes). */
export interface DlqReceiver {
  peekMessages(maxMessageCount: number): Promise<ServiceBusReceivedMessage[]>;
  receiveMessages(
    maxMessageCount: number,
    options?: { maxWaitTimeInMs?: number },
  ): Promise<ServiceBusReceivedMessage[]>;
  completeMessage(message: ServiceBusReceivedMessage): Promise<void>;
  abandonMessage(message: ServiceBusReceivedMessage): Promise<void>;
  close(): Promise<void>;
}

export interface TopicSender {
  sendMessages(message: ServiceBusMessage): Promise<void>;
  close(): Promise<void>;
}

export interface MessagingClient {
  createReceiver(
    topicName: string,
    subscriptionName: string,
    options: { subQueueType: 'deadLetter'; receiveMode: 'peekLock' },
  ): DlqReceiver;
  createSender(topicName: string): TopicSender;
}

export interface DeadLetteredMessage {
  sequenceNumber?: string;
  messageId?: string;
  enqueuedTime?: string;
  deliveryCount?: number;
  deadLetterReason?: string;
  deadLetterErrorDescription?: string;
  contentType?: string;
  subject?: string;
  /** The body as text (UTF-8, or JSON for structured bodies), cut at 500 characters. */
  body: string;
}

export function bodyText(body: unknown, limit = 500): string {
  let text: string;
  if (Buffer.isBuffer(body) || body instanceof Uint8Array) text = Buffer.from(body).toString('utf8');
  else if (typeof body === 'string') text = body;
  else text = JSON.stringify(body) ?? String(body);
  return text.length > limit ? `${text.slice(0, limit)}… (${text.length} characters)` : text;
}

export function describeMessage(m: ServiceBusReceivedMessage): DeadLetteredMessage {
  return {
    sequenceNumber: m.sequenceNumber?.toString(),
    messageId: m.messageId === undefined ? undefined : String(m.messageId),
    enqueuedTime: m.enqueuedTimeUtc?.toISOString(),
    deliveryCount: m.deliveryCount,
    deadLetterReason: m.deadLetterReason,
    deadLetterErrorDescription: m.deadLetterErrorDescription,
    contentType: m.contentType,
    subject: m.subject,
    body: bodyText(m.body),
  };
}

/** Looks at up to `max` dead-lettered messages without taking them (peek does not lock or remove). */
export async function peekDeadLetters(
  client: MessagingClient,
  topic: string,
  subscription: string,
  max: number,
): Promise<DeadLetteredMessage[]> {
  const receiver = client.createReceiver(topic, subscription, { subQueueType: 'deadLetter', receiveMode: 'peekLock' });
  try {
    const found: DeadLetteredMessage[] = [];
    // Each peek continues after the last one; an empty answer means the queue has no more.
    while (found.length < max) {
      const batch = await receiver.peekMessages(Math.min(100, max - found.length));
      if (!batch.length) break;
      found.push(...batch.map(describeMessage));
    }
    return found;
  } finally {
    await receiver.close();
  }
}

/** The message to send again: same body, id and properties, marked as replayed. */
export function replayMessageOf(m: ServiceBusReceivedMessage): ServiceBusMessage {
  return {
    // The SDK types a body as any; it is passed on unread.
    body: m.body as unknown,
    messageId: m.messageId,
    contentType: m.contentType,
    correlationId: m.correlationId,
    subject: m.subject,
    partitionKey: m.partitionKey,
    sessionId: m.sessionId,
    timeToLive: m.timeToLive,
    applicationProperties: {
      ...(m.applicationProperties ?? {}),
      'x-replayed-from': 'deadletter',
      ...(m.deadLetterReason ? { 'x-deadletter-reason': m.deadLetterReason.slice(0, 200) } : {}),
    },
  };
}

export interface ReplayResult {
  replayed: number;
  failed: { messageId?: string; error: string }[];
}

/**
 * Moves up to `max` dead-lettered messages of a subscription back to its topic: each is sent again
 * (same body and message id, so the audit app's idempotent insert keeps one row even if a copy already
 * got through), then completed in the dead-letter queue. A message whose send fails is abandoned: it
 * stays in the dead-letter queue. Note that the topic delivers the copy to every subscription it has.
 */
export async function replayDeadLetters(
  client: MessagingClient,
  topic: string,
  subscription: string,
  max: number,
  log: (line: string) => void = () => undefined,
): Promise<ReplayResult> {
  const receiver = client.createReceiver(topic, subscription, { subQueueType: 'deadLetter', receiveMode: 'peekLock' });
  const sender = client.createSender(topic);
  const result: ReplayResult = { replayed: 0, failed: [] };
  try {
    while (result.replayed + result.failed.length < max) {
      const batch = await receiver.receiveMessages(Math.min(50, max - result.replayed - result.failed.length), {
        maxWaitTimeInMs: 5_000,
      });
      if (!batch.length) break;
      for (const m of batch) {
        try {
          await sender.sendMessages(replayMessageOf(m));
          await receiver.completeMessage(m);
          result.replayed++;
          log(`replayed ${String(m.messageId ?? m.sequenceNumber)}`);
        } catch (err) {
          result.failed.push({
            messageId: m.messageId === undefined ? undefined : String(m.messageId),
            error: (err as Error).message,
          });
          await receiver.abandonMessage(m).catch(() => undefined);
        }
      }
      // Abandoned messages would come straight back: stop rather than loop on a failing send.
      if (result.failed.length) break;
    }
    return result;
  } finally {
    await sender.close();
    await receiver.close();
  }
}
