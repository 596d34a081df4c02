import type { DaprClient } from '@dapr/dapr';
import type { OutboxEvent } from '../models';
import { EVENT_SOURCE } from '../events/product-events';

export interface PublishOutcome {
  /** Sequence numbers that reached the broker. */
  published: number[];
  /** Those that did not, and why. */
  failed: { seq: number; error: string }[];
}

export interface EventPublisher {
  /** Whether publishing can work now; checked before claiming rows, so no transaction waits on a dead sidecar. */
  isReady(): Promise<boolean>;
  publish(events: OutboxEvent[]): Promise<PublishOutcome>;
}

/**
 * Splits a batch (in outbox order) into waves with at most one event per product: a product's events
 * land in successive waves in their original order, so publishing wave after wave keeps each product's
 * events in order while the events of one wave go out in parallel.
 */
export function orderedWaves(events: OutboxEvent[]): OutboxEvent[][] {
  const waves: OutboxEvent[][] = [];
  const seen = new Map<number, number>();
  for (const event of events) {
    const wave = seen.get(event.subjectId) ?? 0;
    seen.set(event.subjectId, wave + 1);
    (waves[wave] ??= []).push(event);
  }
  return waves;
}

/**
 * Publishes a claimed batch through the sidecar's bulk publish API, one call per wave (see
 * orderedWaves): daprd publishes a wave's entries to the broker in parallel and reports each failure.
 * After a wave with a failure the rest stay pending, so no product's later event overtakes an earlier
 * one. The CloudEvent's id is the event's own id: a republished event is recognisably the same one.
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
    const outcome: PublishOutcome = { published: [], failed: [] };
    for (const wave of orderedWaves(events)) {
      const result = await this.publishWave(wave);
      outcome.published.push(...result.published);
      outcome.failed.push(...result.failed);
      if (result.failed.length) break;
    }
    return outcome;
  }

  private async publishWave(events: OutboxEvent[]): Promise<PublishOutcome> {
    const entries = events.map((event) => ({
      entryID: String(event.seq),
      event: JSON.parse(event.payload) as object,
      contentType: 'application/json',
      metadata: cloudEventOverrides(event),
    }));
    // publishBulk reports failures in its result (all entries, if the call itself failed); it does not throw.
    const { failedMessages } = await this.client.pubsub.publishBulk(this.pubsubName, this.topic, entries);
    const failed = failedMessages.map((f) => ({ seq: Number(f.message.entryID), error: describe(f.error) }));
    const failedSeqs = new Set(failed.map((f) => f.seq));
    return { published: events.map((e) => e.seq).filter((seq) => !failedSeqs.has(seq)), failed };
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
