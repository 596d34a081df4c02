import { Op, Sequelize } from 'sequelize';
import type { Logger } from 'pino';
import type { OutboxEvent } from '../models';
import { OutboxClaims } from './claims';
import type { EventPublisher } from './publisher';

export interface RelayOptions {
  batchSize: number;
  pollMs: number;
  /** After a round that found events, the next one starts no sooner than this: under load, batches gather. */
  lingerMs: number;
  maxBackoffMs: number;
  retentionHours: number;
}

export interface RoundResult {
  claimed: number;
  published: number;
  failed: boolean;
  /** The sidecar did not answer its health check: nothing was claimed. */
  notReady?: boolean;
}

const FIRST_BACKOFF_MS = 100;
/** A sidecar that is down is probed at this pace (a cheap health call), not with growing backoff. */
const NOT_READY_PROBE_MS = 250;
const CLEANUP_EVERY_MS = 60_000;

/**
 * Moves events from the outbox table to the broker, in rounds: claim the oldest unpublished events
 * (./claims.ts: a short transaction, in product order across replicas), publish them as one batch
 * through the sidecar with no transaction open, then stamp the published ones. A crash between publish
 * and stamp republishes those events: delivery is at-least-once, and consumers deduplicate on the event id.
 */
export class OutboxRelay {
  private running = false;
  private loop?: Promise<void>;
  private wakeUp?: () => void;
  private pendingWake = false;
  private lastCleanup = 0;
  private failedRounds = 0;
  /** The last round published (or had nothing to publish): the sidecar answers, no need to ask it. */
  private lastRoundWorked = false;
  /** When the last round that claimed events began. */
  private lastBusyRoundAt = 0;

  private readonly claims: OutboxClaims;

  constructor(
    sequelize: Sequelize,
    private readonly outbox: typeof OutboxEvent,
    private readonly publisher: EventPublisher,
    private readonly logger: Logger,
    private readonly options: RelayOptions,
  ) {
    this.claims = new OutboxClaims(sequelize, outbox);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** A new event was committed: publish now instead of at the next poll. */
  wake(): void {
    this.pendingWake = true;
    this.wakeUp?.();
  }

  /**
   * Stops the loop after its current round, then keeps publishing what is pending until nothing is
   * left, a round fails, or `deadlineMs` passes. Unpublished events stay in the table for the next start.
   */
  async stop(deadlineMs: number): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wakeUp?.();
    await this.loop;
    const until = Date.now() + deadlineMs;
    while (Date.now() < until) {
      const round = await this.safeRound();
      if (round.failed || round.claimed < this.options.batchSize) break;
    }
  }

  /**
   * One claim → publish → settle round. The sidecar's health is asked only after a failed round (and at
   * start): while rounds work, asking would add a call to every event's way out.
   */
  async runRound(): Promise<RoundResult> {
    if (!this.lastRoundWorked && !(await this.publisher.isReady()))
      return { claimed: 0, published: 0, failed: true, notReady: true };
    this.lastRoundWorked = false;
    const claim = await this.claims.claim(this.options.batchSize);
    if (claim.events.length === 0) {
      this.lastRoundWorked = true;
      return { claimed: 0, published: 0, failed: false };
    }
    const outcome = await this.publisher.publish(claim.events).catch(async (err: unknown) => {
      await this.claims.release(claim);
      throw err;
    });
    await this.claims.settle(claim, outcome);
    const [first] = outcome.failed;
    if (first) {
      this.logger.warn(
        { failed: outcome.failed.length, error: first.error, published: outcome.published.length },
        'publish failed; will retry',
      );
    }
    const round = {
      claimed: claim.events.length,
      published: outcome.published.length,
      failed: outcome.failed.length > 0,
    };
    this.lastRoundWorked = !round.failed;
    return round;
  }

  private async safeRound(): Promise<RoundResult> {
    try {
      return await this.runRound();
    } catch (err) {
      this.logger.warn({ err }, 'outbox round failed; will retry');
      return { claimed: 0, published: 0, failed: true };
    }
  }

  private async run(): Promise<void> {
    let backoff = 0;
    while (this.running) {
      this.pendingWake = false;
      await this.linger();
      const startedAt = Date.now();
      const round = await this.safeRound();
      if (round.claimed > 0) this.lastBusyRoundAt = startedAt;
      if (round.failed) {
        this.failedRounds++;
        // The first miss is normal at start-up (the sidecar starts after the app); a run of them is not.
        if (this.failedRounds === 1) this.logger.info('outbox relay waiting for the sidecar or broker');
        else if (this.failedRounds % 20 === 0)
          this.logger.warn({ failedRounds: this.failedRounds }, 'outbox relay still cannot publish; backing off');
        if (round.notReady) {
          await this.sleep(NOT_READY_PROBE_MS, false);
          continue;
        }
        backoff = Math.min(this.options.maxBackoffMs, backoff ? backoff * 2 : FIRST_BACKOFF_MS);
        await this.sleep(backoff * (0.5 + Math.random() / 2), false);
        continue;
      }
      if (this.failedRounds) this.logger.info({ failedRounds: this.failedRounds }, 'outbox relay publishing again');
      this.failedRounds = 0;
      backoff = 0;
      await this.cleanupIfDue();
      if (round.claimed === this.options.batchSize || this.pendingWake) continue;
      await this.sleep(this.options.pollMs, true);
    }
  }

  /**
   * Each round costs the same few calls (claim, publish, settle, and the audit's delivery downstream)
   * whatever its size: under a steady load, waiting for the next events to join the batch costs less CPU
   * per event than a round for each. An event after a quiet spell goes at once.
   */
  private async linger(): Promise<void> {
    const wait = this.lastBusyRoundAt + this.options.lingerMs - Date.now();
    if (wait > 0) await this.sleep(wait, false);
  }

  /** Waits `ms`; a wake() cuts the wait short unless we are backing off from a failure. */
  private sleep(ms: number, wakeable: boolean): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = () => {
        if (wakeable || !this.running) done();
      };
    });
  }

  private async cleanupIfDue(): Promise<void> {
    if (this.options.retentionHours === 0 || Date.now() - this.lastCleanup < CLEANUP_EVERY_MS) return;
    this.lastCleanup = Date.now();
    const cutoff = new Date(Date.now() - this.options.retentionHours * 3_600_000);
    try {
      const removed = await this.outbox.destroy({ where: { publishedAt: { [Op.lt]: cutoff } } });
      if (removed) this.logger.info({ removed }, 'removed published outbox events past retention');
    } catch (err) {
      this.logger.warn({ err }, 'outbox cleanup failed');
    }
  }
}
