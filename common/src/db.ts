import { Options, Sequelize, Transaction } from 'sequelize';
import type { Logger } from 'pino';
import type { DbConfig } from './config';

/** Dialect-specific driver options: Azure SQL needs encryption, SQLite a storage file. */
function dialectOptions(db: DbConfig): Options['dialectOptions'] {
  switch (db.dialect) {
    case 'mssql':
      // Azure SQL only accepts encrypted connections; tedious verifies the server certificate.
      return { options: { encrypt: true, trustServerCertificate: false } };
    case 'postgres':
      return db.ssl ? { ssl: { require: true, rejectUnauthorized: true } } : {};
    case 'mariadb':
    case 'mysql':
      return db.ssl ? { ssl: { rejectUnauthorized: true } } : {};
    default:
      return {};
  }
}

export function createSequelize(db: DbConfig, logger: Logger): Sequelize {
  const options: Options = {
    dialect: db.dialect,
    logging: (sql) => logger.trace({ sql }, 'sql'),
    pool: { max: db.poolMax, min: 0, idle: 10_000, acquire: 10_000 },
    dialectOptions: dialectOptions(db),
    define: { underscored: true, freezeTableName: true },
  };
  if (db.dialect === 'sqlite') {
    // One connection: SQLite serialises writers anyway, and ':memory:' is per connection.
    return new Sequelize({ ...options, storage: db.storage, pool: { max: 1, min: 0, idle: 10_000, acquire: 10_000 } });
  }
  // Dates are stored and read back in UTC whatever the server's zone (SQLite always does).
  options.timezone = '+00:00';
  if (db.dialect === 'mariadb' || db.dialect === 'mysql') {
    options.define = { ...options.define, charset: 'utf8mb4', collate: 'utf8mb4_unicode_ci' };
  }
  if (db.url) return new Sequelize(db.url, options);
  return new Sequelize(db.database!, db.user ?? '', db.password, { ...options, host: db.host, port: db.port });
}

const TRANSIENT_DB_ERRORS = new Set(
  [
    'Connection',
    'ConnectionRefused',
    'ConnectionTimedOut',
    'ConnectionAcquireTimeout',
    'HostNotFound',
    'HostNotReachable',
    'AccessDenied',
    'Timeout',
  ].map((kind) => `Sequelize${kind}Error`),
);

/** Errors that mean "the database is not reachable right now", as opposed to a bad statement. */
export function isTransientDbError(err: unknown): boolean {
  const name = (err as { name?: string })?.name ?? '';
  return TRANSIENT_DB_ERRORS.has(name);
}

const sqliteTails = new WeakMap<Sequelize, Promise<unknown>>();

/**
 * `sequelize.transaction(fn)`, except on SQLite, where this process holds a single connection and two
 * transactions on it must not interleave: there they run one after another.
 */
export function inTransaction<T>(sequelize: Sequelize, fn: (t: Transaction) => Promise<T>): Promise<T> {
  if (sequelize.getDialect() !== 'sqlite') return sequelize.transaction(fn);
  const previous = sqliteTails.get(sequelize) ?? Promise.resolve();
  const next = previous.then(() => sequelize.transaction(fn));
  sqliteTails.set(
    sequelize,
    next.catch(() => undefined),
  );
  return next;
}
