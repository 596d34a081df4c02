/*
 * Row locks Sequelize cannot express on every engine (it has no SKIP LOCKED for MySQL/MariaDB and no
 * locks at all for SQL Server), written once per dialect. Table and column names are constants here,
 * values always go in as replacements.
 */

/** The oldest unpublished events, locked for this transaction; rows another relay holds are skipped. */
export function claimPendingEventsSql(dialect: string): string {
  switch (dialect) {
    case 'mssql':
      return (
        'SELECT TOP (:limit) * FROM outbox_events WITH (UPDLOCK, READPAST, ROWLOCK) ' +
        'WHERE published_at IS NULL ORDER BY seq'
      );
    case 'sqlite':
      return 'SELECT * FROM outbox_events WHERE published_at IS NULL ORDER BY seq LIMIT :limit';
    default: // postgres, mysql 8+, mariadb 10.6+
      return 'SELECT * FROM outbox_events WHERE published_at IS NULL ORDER BY seq LIMIT :limit FOR UPDATE SKIP LOCKED';
  }
}

/**
 * One product, locked until the transaction ends, so concurrent changes to it commit (and are
 * recorded in the outbox) one after the other.
 */
export function selectProductForUpdateSql(dialect: string): string {
  switch (dialect) {
    case 'mssql':
      return 'SELECT * FROM products WITH (UPDLOCK, ROWLOCK) WHERE id = :id';
    case 'sqlite':
      return 'SELECT * FROM products WHERE id = :id';
    default:
      return 'SELECT * FROM products WHERE id = :id FOR UPDATE';
  }
}

/**
 * Lets the current transaction commit without waiting for its log to reach the disk (PostgreSQL
 * `synchronous_commit`, per transaction): for writes whose loss in a crash is harmless. Other engines
 * have no per-transaction switch; their commits stay durable.
 */
export function relaxedCommitSql(dialect: string): string | undefined {
  return dialect === 'postgres' ? 'SET LOCAL synchronous_commit TO OFF' : undefined;
}
