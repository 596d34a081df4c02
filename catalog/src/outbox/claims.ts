import { randomUUID } from 'node:crypto';
import { Op, QueryTypes, Sequelize, Transaction, literal } from 'sequelize';
import type { OutboxEvent } from '../models';
import type { PublishOutcome } from './publisher';

/**
 * How long a claim keeps other relays off its events. It must outlast the longest publish (the sidecar
 * call with daprd's publish retries and timeouts: well under a minute), or another relay would publish
 * the same events again: harmless (consumers deduplicate), but a later event of a product could then
 * overtake an earlier one. A relay that died holding a claim delays those events by at most this long.
 */
export const CLAIM_SECONDS = 120;

/** Events one relay claimed, to publish outside any transaction and then settle. */
export interface Claim {
  events: OutboxEvent[];
  /** When the claim was made: the publishedAt of those that get published. */
  at: Date;
}

/**
 * The relay's hold on outbox events, taken and released in short transactions so that no row lock and
 * no pooled connection is held while the sidecar publishes. Relays on several replicas share one outbox:
 *   - claim() takes the oldest unpublished events nobody holds, skipping rows another relay is claiming
 *     at this instant, and marks them claimed (claimed_by, claimed_until) in one transaction;
 *   - it keeps, per product, only events that no unpublished earlier event of the same product precedes
 *     outside the claim, so two relays never publish one product's events out of order;
 *   - settle() stamps the published ones and hands the rest back.
 */
export class OutboxClaims {
  /** Who holds a claim: one id per relay instance. */
  readonly owner = randomUUID();

  constructor(
    private readonly sequelize: Sequelize,
    private readonly outbox: typeof OutboxEvent,
  ) {}

  async claim(limit: number): Promise<Claim> {
    const at = new Date();
    const events = await this.inRelaxedTransaction(async (transaction) => {
      const candidates = await this.sequelize.query<OutboxEvent>(claimableEventsSql(this.sequelize.getDialect()), {
        replacements: { limit, now: at },
        model: this.outbox,
        mapToModel: true,
        type: QueryTypes.SELECT,
        transaction,
      });
      if (candidates.length === 0) return [];
      const kept = await this.inProductOrder(candidates, transaction);
      if (kept.length > 0)
        await this.outbox.update(
          { claimedBy: this.owner, claimedUntil: new Date(at.getTime() + CLAIM_SECONDS * 1000) },
          { where: { seq: kept.map((e) => e.seq) }, transaction },
        );
      return kept;
    });
    return { events, at };
  }

  /** Records what the publish did: published events are done, the others are handed back for a later round. */
  async settle(claim: Claim, outcome: PublishOutcome): Promise<void> {
    const done = new Set(outcome.published);
    const rest = claim.events.map((e) => e.seq).filter((seq) => !done.has(seq));
    const failed = new Set(outcome.failed.map((f) => f.seq));
    await this.inRelaxedTransaction(async (transaction) => {
      if (done.size > 0)
        await this.outbox.update(
          { publishedAt: claim.at, claimedBy: null, claimedUntil: null },
          { where: { seq: [...done] }, transaction },
        );
      // One statement for the whole batch: the first error stands for all (they nearly always share a cause).
      const [firstFailure] = outcome.failed;
      if (firstFailure) {
        await this.outbox.update(
          { attempts: literal('attempts + 1'), lastError: firstFailure.error },
          { where: { seq: [...failed], claimedBy: this.owner }, transaction },
        );
      }
      if (rest.length > 0)
        await this.outbox.update(
          { claimedBy: null, claimedUntil: null },
          { where: { seq: rest, claimedBy: this.owner }, transaction },
        );
    });
  }

  /** Hands every event of a claim back unpublished (the publish could not be attempted). */
  release(claim: Claim): Promise<void> {
    return this.settle(claim, { published: [], failed: [] });
  }

  /**
   * The candidates that may go out now: per product, those before the first unpublished event of that
   * product that is not among the candidates (one another relay holds or is claiming, or one past the limit).
   */
  private async inProductOrder(candidates: OutboxEvent[], transaction: Transaction): Promise<OutboxEvent[]> {
    const last = candidates.at(-1)?.seq;
    if (last === undefined) return [];
    const pending = await this.outbox.findAll({
      attributes: ['seq', 'subjectId'],
      where: {
        publishedAt: null,
        subjectId: [...new Set(candidates.map((e) => e.subjectId))],
        seq: { [Op.lte]: last },
      },
      order: [['seq', 'ASC']],
      transaction,
    });
    const taken = new Set(candidates.map((e) => e.seq));
    const blocked = new Set<number>();
    const allowed = new Set<number>();
    for (const e of pending) {
      if (blocked.has(e.subjectId)) continue;
      if (taken.has(e.seq)) allowed.add(e.seq);
      else blocked.add(e.subjectId);
    }
    return candidates.filter((e) => allowed.has(e.seq));
  }

  /**
   * A transaction whose commit need not wait for the disk where the engine lets one transaction say so:
   * losing a claim or a published stamp in a database crash only publishes those events again, and
   * consumers deduplicate.
   */
  private inRelaxedTransaction<T>(fn: (t: Transaction) => Promise<T>): Promise<T> {
    return this.sequelize.transaction(async (transaction) => {
      const relaxed = relaxedCommitSql(this.sequelize.getDialect());
      if (relaxed) await this.sequelize.query(relaxed, { transaction });
      return fn(transaction);
    });
  }
}

/*
 * Row locks Sequelize cannot express on every engine (no SKIP LOCKED for MySQL/MariaDB, no lock hints for
 * SQL Server), written once per dialect. Table and column names are constants here; values always go in
 * as replacements.
 */

/** The oldest unpublished events nobody holds a claim on, locked for this transaction; rows another relay is claiming are skipped. */
export function claimableEventsSql(dialect: string): string {
  const claimable = 'published_at IS NULL AND (claimed_until IS NULL OR claimed_until < :now)';
  if (dialect === 'mssql')
    return `SELECT TOP (:limit) * FROM outbox_events WITH (UPDLOCK, READPAST, ROWLOCK) WHERE ${claimable} ORDER BY seq`;
  // postgres, mysql 8+, mariadb 10.6+
  return `SELECT * FROM outbox_events WHERE ${claimable} ORDER BY seq LIMIT :limit FOR UPDATE SKIP LOCKED`;
}

/** PostgreSQL's per-transaction `synchronous_commit`; other engines have no such switch and commit durably. */
export function relaxedCommitSql(dialect: string): string | undefined {
  return dialect === 'postgres' ? 'SET LOCAL synchronous_commit TO OFF' : undefined;
}
