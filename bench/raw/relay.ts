import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Client } from 'pg';
import { PG_CLAIM_SQL } from '../../catalog/src/outbox/claim-statements';

/** Events per claim, as the catalog's relay (RELAY_BATCH_SIZE). */
const BATCH = 100;
/** An idle relay looks for events this often, as the catalog's (RELAY_POLL_MS); a commit wakes it sooner. */
const POLL_MS = 500;
const RETRY_MS = 100;

/** Published at the claim time, as the catalog stamps them (bench/latency.ts reads it as the claim). */
const MARK_SQL = `UPDATE outbox_events SET published_at = $1, claimed_by = NULL, claimed_until = NULL
WHERE seq = ANY($2::bigint[])`;
const RELEASE_SQL = 'UPDATE outbox_events SET claimed_by = NULL, claimed_until = NULL WHERE seq = ANY($1::bigint[])';

/**
 * Outbox → Redis stream, one round at a time: claim, XADD the batch in one pipeline, mark the published
 * ones. The connection commits without waiting for the log flush (`synchronous_commit` off, set by the
 * caller): a claim or a mark lost in a crash only publishes again, and the consumer ignores a known id.
 * The hot statements are named (prepared once per connection): parsed and planned once, not per round.
 */
export class RawRelay {
  private readonly owner = randomUUID();
  private wakeUp?: () => void;
  private pendingWake = false;

  constructor(
    private readonly db: Client,
    private readonly redis: Redis,
    private readonly stream: string,
  ) {}

  /** A product's transaction committed: look now rather than at the next poll. */
  wake(): void {
    this.pendingWake = true;
    this.wakeUp?.();
  }

  async run(): Promise<void> {
    for (;;) {
      this.pendingWake = false;
      const claimed = await this.round().catch((err: unknown) => {
        process.stderr.write(`relay round failed: ${String(err)}\n`);
        return -1;
      });
      if (claimed === BATCH || (claimed >= 0 && this.pendingWake)) continue;
      await this.sleep(claimed < 0 ? RETRY_MS : POLL_MS);
    }
  }

  /** One claim → XADD → mark round; answers how many events it claimed. */
  private async round(): Promise<number> {
    const at = new Date();
    // The catalog's claim statement (one short transaction), so both relays claim by the same rule.
    const { rows } = await this.db.query<{ seq: string; payload: string }>({
      name: 'claim',
      text: PG_CLAIM_SQL,
      values: [at, BATCH, this.owner],
    });
    if (rows.length === 0) return 0;
    rows.sort((a, b) => Number(a.seq) - Number(b.seq));
    const pipeline = this.redis.pipeline();
    for (const row of rows) pipeline.xadd(this.stream, '*', 'source', 'catalog', 'data', row.payload);
    const results = (await pipeline.exec()) ?? [];
    // In order on one connection: after the first failure the rest go back, so no product's event overtakes.
    const firstFailed = results.findIndex(([err]) => err !== null);
    const published = firstFailed < 0 ? rows : rows.slice(0, firstFailed);
    const rest = rows.slice(published.length);
    if (published.length > 0)
      await this.db.query({ name: 'mark', text: MARK_SQL, values: [at, published.map((r) => r.seq)] });
    if (rest.length > 0) {
      await this.db.query(RELEASE_SQL, [rest.map((r) => r.seq)]);
      throw new Error(`XADD failed: ${String(results[firstFailed]?.[0])}`);
    }
    return rows.length;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wakeUp?.(), ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
    });
  }
}
