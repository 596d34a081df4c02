import { Options, Sequelize, Transaction } from 'sequelize';
import type { Logger } from 'pino';
import type { DbConfig } from './config';

/** Dialect-specific driver options: Azure SQL needs encryption. */
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
  }
}

export function createSequelize(db: DbConfig, logger: Logger): Sequelize {
  const options: Options = {
    dialect: db.dialect,
    // Sequelize formats every statement for a logging function, even one that then logs nothing.
    logging: logger.isLevelEnabled('trace') ? (sql) => logger.trace({ sql }, 'sql') : false,
    pool: { max: db.poolMax, min: 0, idle: 10_000, acquire: 10_000 },
    dialectOptions: dialectOptions(db),
    define: { underscored: true, freezeTableName: true },
    // Dates are stored and read back in UTC whatever the server's zone.
    timezone: '+00:00',
  };
  if (db.dialect === 'mariadb' || db.dialect === 'mysql') {
    options.define = { ...options.define, charset: 'utf8mb4', collate: 'utf8mb4_unicode_ci' };
  }
  if (db.url) return new Sequelize(db.url, options);
  if (!db.database) throw new Error('a database needs a URL or a name');
  return new Sequelize(db.database, db.user ?? '', db.password, { ...options, host: db.host, port: db.port });
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

/** `sequelize.transaction(fn)`: one unit of work, committed when `fn` resolves, rolled back when it throws. */
export function inTransaction<T>(sequelize: Sequelize, fn: (t: Transaction) => Promise<T>): Promise<T> {
  return sequelize.transaction(fn);
}
