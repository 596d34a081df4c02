import type { DaprClient } from '@dapr/dapr';
import type { OutboxEvent } from '../models';
import { EVENT_SOURCE } from '../events/product-events';

export interface PublishOutcome {
  /** Sequence numbers that reached the broker. */
  published: number[];
  /** The first event that did not, and why; events after it were not attempted. */
  failed?: { seq: number; error: string };
}

export interface EventPublisher {
  /** Whether publishing can work now; checked before claiming rows, so no transaction waits on a dead sidecar. */
  isReady(): Promise<boolean>;
  publish(events: OutboxEvent[]): Promise<PublishOutcome>;
}

/**
 * Publishes through the sidecar's pub/sub API. The CloudEvent's id is the event's own id, so a
 * republished event is recognisably the same one downstream.
 */
export class DaprEventPublisher implements EventPublisher {
  constructor(
    private readonly client: DaprClient,
    private readonly pubsubName: string,
    private readonly topic: string,
    private readonly sidecarReady: () => Promise<void>,
  ) {}

  isReady(): Promise<boolean> {
    return this.sidecarReady().then(
      () => true,
      () => false,
    );
  }

  async publish(events: OutboxEvent[]): Promise<PublishOutcome> {
    const published: number[] = [];
    for (const event of events) {
      // publish() reports failure in its result instead of throwing.
      const result = await this.client.pubsub.publish(this.pubsubName, this.topic, JSON.parse(event.payload), {
        contentType: 'application/json',
        metadata: cloudEventOverrides(event),
      });
      if (result.error) return { published, failed: { seq: event.seq, error: describe(result.error) } };
      published.push(event.seq);
    }
    return { published };
  }
}

export function cloudEventOverrides(event: OutboxEvent): Record<string, string> {
  return {
    'cloudevent.id': event.eventId,
    'cloudevent.type': event.eventType,
    'cloudevent.source': EVENT_SOURCE,
    'cloudevent.subject': String(event.subjectId),
  };
}

function describe(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.slice(0, 1000);
}
