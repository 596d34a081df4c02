import { randomUUID } from 'node:crypto';
import { Op, QueryTypes, Sequelize, Transaction, literal } from 'sequelize';
import type { OutboxEvent } from '../models';
import type { PublishOutcome } from './publisher';
import { CLAIM_SECONDS, PG_CLAIM_SQL, PG_SETTLE_SQL } from './claim-statements';

/** Events one relay claimed, to publish outside any transaction and then settle. */
export interface Claim {
  events: OutboxEvent[];
  /** When the claim was made: the publishedAt of those that get published. */
  at: Date;
}

/**
 * The relay's hold on outbox events, taken and released in short transactions so that no row lock and
 * no pooled connection is held while the sidecar publishes (on PostgreSQL one statement each, elsewhere
 * a few in one transaction). Relays on several replicas share one outbox:
 *   - claim() takes the oldest unpublished events nobody holds, skipping rows another relay is claiming
 *     at this instant, and marks them claimed (claimed_by, claimed_until);
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
    const events =
      this.sequelize.getDialect() === 'postgres'
        ? await this.claimInOneStatement(limit, at)
        : await this.claimInTransaction(limit, at);
    return { events, at };
  }

  /** Records what the publish did: published events are done, the others are handed back for a later round. */
  async settle(claim: Claim, outcome: PublishOutcome): Promise<void> {
    if (this.sequelize.getDialect() === 'postgres') await this.settleInOneStatement(claim, outcome);
    else await this.settleInTransaction(claim, outcome);
  }

  /** Hands every event of a claim back unpublished (the publish could not be attempted). */
  release(claim: Claim): Promise<void> {
    return this.settle(claim, { published: [], failed: [] });
  }

  /** PostgreSQL: the claim rule below as one statement, so one round trip and one short transaction. */
  private async claimInOneStatement(limit: number, at: Date): Promise<OutboxEvent[]> {
    const events = await this.sequelize.query<OutboxEvent>(PG_CLAIM_SQL, {
      bind: [at, limit, this.owner],
      model: this.outbox,
      mapToModel: true,
      type: QueryTypes.SELECT,
    });
    return events.sort((a, b) => a.seq - b.seq);
  }

  /** PostgreSQL: every outcome of a round in one statement. */
  private async settleInOneStatement(claim: Claim, outcome: PublishOutcome): Promise<void> {
    const failed = outcome.failed.map((f) => f.seq);
    await this.sequelize.query(PG_SETTLE_SQL, {
      bind: [
        outcome.published,
        claim.at,
        failed,
        outcome.failed[0]?.error ?? null,
        claim.events.map((e) => e.seq),
        this.owner,
      ],
      type: QueryTypes.UPDATE,
    });
  }

  private async claimInTransaction(limit: number, at: Date): Promise<OutboxEvent[]> {
    return this.sequelize.transaction(async (transaction) => {
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
  }

  private async settleInTransaction(claim: Claim, outcome: PublishOutcome): Promise<void> {
    const done = new Set(outcome.published);
    const rest = claim.events.map((e) => e.seq).filter((seq) => !done.has(seq));
    const failed = new Set(outcome.failed.map((f) => f.seq));
    await this.sequelize.transaction(async (transaction) => {
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
