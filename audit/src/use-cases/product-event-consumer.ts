import type { Logger } from 'pino';
import { interpretProductEvent } from '../events/product-events';
import { AuditRow, AuditSink, SinkError } from '../sinks/audit-sink';

/** What daprd is told for each message: it acknowledges, redelivers, or dead-letters accordingly. */
export type DeliveryStatus = 'SUCCESS' | 'RETRY' | 'DROP';

export interface Delivery {
  /** The bulk entry id, or any unique key for a single delivery. */
  key: string;
  event: unknown;
}

/**
 * Writes product events to the audit trail. Never throws: every delivery gets an explicit status, so
 * nothing is acknowledged by accident. Poison events are dropped (daprd moves them to the dead-letter
 * topic, where DeadLetterConsumer keeps them); an unavailable database means RETRY.
 */
export class ProductEventConsumer {
  constructor(
    private readonly sink: AuditSink,
    private readonly logger: Logger,
  ) {}

  async consume(deliveries: Delivery[]): Promise<Map<string, DeliveryStatus>> {
    const statuses = new Map<string, DeliveryStatus>();
    const valid: { key: string; row: AuditRow }[] = [];
    for (const d of deliveries) {
      const result = interpretProductEvent(d.event);
      if (result.ok) valid.push({ key: d.key, row: result.row });
      else {
        this.logger.warn({ key: d.key, reason: result.reason }, 'poison event: dropping to the dead-letter topic');
        statuses.set(d.key, 'DROP');
      }
    }
    for (const [key, status] of await this.write(valid)) statuses.set(key, status);
    return statuses;
  }

  /** One multi-row insert; if the database refuses the batch's data, row by row to find the culprit. */
  private async write(items: { key: string; row: AuditRow }[]): Promise<Map<string, DeliveryStatus>> {
    const result = new Map<string, DeliveryStatus>();
    if (items.length === 0) return result;
    const outcome = await this.tryInsert(items.map((i) => i.row));
    if (outcome !== 'DROP' || items.length === 1) {
      for (const i of items) result.set(i.key, outcome);
      return result;
    }
    for (const i of items) result.set(i.key, await this.tryInsert([i.row]));
    return result;
  }

  private async tryInsert(rows: AuditRow[]): Promise<DeliveryStatus> {
    try {
      await this.sink.insertAuditLogs(dedupe(rows));
      return 'SUCCESS';
    } catch (err) {
      const transient = !(err instanceof SinkError) || err.transient;
      this.logger.warn(
        { err, rows: rows.length, transient },
        transient ? 'audit write failed; asking for redelivery' : 'audit write refused the data',
      );
      return transient ? 'RETRY' : 'DROP';
    }
  }
}

/** The same event twice in one batch would make the multi-row insert touch one key twice. */
function dedupe(rows: AuditRow[]): AuditRow[] {
  const seen = new Set<string>();
  return rows.filter((r) => !seen.has(r.eventId) && seen.add(r.eventId));
}
