/*
 * The relay's claim period and its statements on PostgreSQL (./claims.ts), plain text with no dependency,
 * so that the benchmark's raw relay runs the same claim.
 */

/**
 * How long a claim keeps other relays off its events. It must outlast the longest publish (the sidecar
 * call with daprd's publish retries and timeouts: well under a minute), or another relay would publish
 * the same events again: harmless (consumers deduplicate), but a later event of a product could then
 * overtake an earlier one. A relay that died holding a claim delays those events by at most this long.
 */
export const CLAIM_SECONDS = 120;

/**
 * Each statement of a round is its own transaction, and commits without waiting for the disk: losing a
 * claim or a published stamp in a database crash only publishes those events again, and consumers
 * deduplicate. `set_config(..., true)` in a CTE sets `synchronous_commit` for the statement's own
 * transaction, which SET LOCAL outside a transaction block cannot. (Other engines have no such switch
 * per transaction and commit the claim and the stamp durably.)
 */
const PG_RELAXED = "relaxed AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true))";

/**
 * The claim rule of OutboxClaims (claimableEventsSql, then inProductOrder) in one statement: the oldest
 * unpublished events nobody holds ($1: now), at most $2, skipping rows another relay is locking, keeping
 * per product only those no earlier unpublished event outside the claim precedes, marked held by $3
 * for CLAIM_SECONDS. The benchmark's raw relay runs the very same statement.
 */
export const PG_CLAIM_SQL = `
WITH ${PG_RELAXED},
candidates AS (
  SELECT seq, subject_id FROM outbox_events
  WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until < $1)
  ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED
), kept AS (
  SELECT c.seq FROM candidates c
  WHERE NOT EXISTS (
    SELECT 1 FROM outbox_events p
    WHERE p.subject_id = c.subject_id AND p.published_at IS NULL AND p.seq < c.seq
      AND p.seq NOT IN (SELECT seq FROM candidates))
)
UPDATE outbox_events o SET claimed_by = $3, claimed_until = $1::timestamptz + make_interval(secs => ${CLAIM_SECONDS})
FROM kept, relaxed WHERE o.seq = kept.seq
RETURNING o.*`;

/**
 * settleInTransaction in one statement: the published ($1) stamped with the claim time ($2), the failed
 * ($3) counted with the first error ($4), and every event of the claim ($5) still held by this relay ($6)
 * handed back.
 */
export const PG_SETTLE_SQL = `
WITH ${PG_RELAXED}
UPDATE outbox_events SET
  published_at = CASE WHEN seq = ANY($1) THEN $2 ELSE published_at END,
  attempts = CASE WHEN seq = ANY($3) THEN attempts + 1 ELSE attempts END,
  last_error = CASE WHEN seq = ANY($3) THEN $4 ELSE last_error END,
  claimed_by = NULL, claimed_until = NULL
FROM relaxed
WHERE seq = ANY($5) AND (seq = ANY($1) OR claimed_by = $6)`;
