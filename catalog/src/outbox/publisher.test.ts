import type { OutboxEvent } from '../models';
import { cloudEventOverrides, orderedWaves } from './publisher';

const event = (seq: number, subjectId: number) =>
  ({ seq, subjectId, eventId: `e${seq}`, eventType: 'product.updated' }) as OutboxEvent;

describe('publishing order', () => {
  it('puts at most one event per product in a wave, keeping each product’s order', () => {
    const batch = [event(1, 7), event(2, 8), event(3, 7), event(4, 9), event(5, 7), event(6, 8)];
    expect(orderedWaves(batch).map((w) => w.map((e) => e.seq))).toEqual([[1, 2, 4], [3, 6], [5]]);
  });

  it('keeps a batch of distinct products in one wave', () => {
    expect(orderedWaves([event(1, 1), event(2, 2), event(3, 3)])).toHaveLength(1);
    expect(orderedWaves([])).toEqual([]);
  });

  it('sets the CloudEvent id, type, source and subject from the event', () => {
    expect(cloudEventOverrides(event(3, 7))).toEqual({
      'cloudevent.id': 'e3',
      'cloudevent.type': 'product.updated',
      'cloudevent.source': 'catalog',
      'cloudevent.subject': '7',
    });
  });
});
