import { randomBytes } from 'node:crypto';
import pino from 'pino';
import type { Sequelize } from 'sequelize';
import { createSequelize, migrate, Migration } from '@portable-dapr/common';
import { databaseAdmin, SQL_VARIANTS, SqlEngine } from '../../tools/stack';
import { must } from './must';

/** A short id for names that must not collide between runs: databases, topics, app ids. */
export const runId = () => `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

/** Fresh databases on the machine's server for one test file, dropped by `drop()`. */
export async function createTestDatabases<K extends string>(
  engine: SqlEngine,
  keys: K[],
  prefix = 't',
): Promise<{ names: Record<K, string>; drop: () => Promise<void> }> {
  const admin = databaseAdmin(engine);
  const id = runId();
  const names = Object.fromEntries(keys.map((k) => [k, `${prefix}_${id}_${k}`])) as Record<K, string>;
  for (const name of Object.values<string>(names)) await admin.ensureDatabase(name);
  return {
    names,
    drop: async () => void (await Promise.all(Object.values<string>(names).map((n) => admin.dropDatabase(n)))),
  };
}

/** A Sequelize connection to a database of the machine's server, as the apps make it (common/src/db.ts). */
export function connectTestDatabase(engine: SqlEngine, database: string, poolMax = 5): Sequelize {
  const env = SQL_VARIANTS[engine].appEnv;
  return createSequelize(
    {
      dialect: engine,
      host: env.DB_SERVER,
      port: Number(env.DB_PORT),
      user: env.DB_USER,
      database,
      poolMax,
      ssl: false,
    },
    pino({ level: 'silent' }),
  );
}

/**
 * For tests of one service on a real PostgreSQL: a throwaway database migrated once for the test file
 * and emptied before each test (identities restarted, so ids start at 1 as on a new database), dropped
 * at the end. Call from a describe body or the top of a test file; `sequelize()` is the connection.
 */
export function migratedDatabasePerFile(migrations: Migration[], prefix: string) {
  let drop: (() => Promise<void>) | undefined;
  let sequelize: Sequelize | undefined;

  beforeAll(async () => {
    const dbs = await createTestDatabases('postgres', ['db'], prefix);
    drop = dbs.drop;
    sequelize = connectTestDatabase('postgres', dbs.names.db);
    await migrate(sequelize, migrations, pino({ level: 'silent' }));
  }, 120_000);

  const connection = () => must(sequelize, 'the test database (its beforeAll has not run)');

  beforeEach(async () => {
    const tables = (await connection().getQueryInterface().showAllTables()).filter((t) => t !== 'schema_migrations');
    await connection().query(`TRUNCATE ${tables.map((t) => `"${t}"`).join(', ')} RESTART IDENTITY`);
  });

  afterAll(async () => {
    await sequelize?.close();
    await drop?.();
  }, 120_000);

  return { sequelize: connection };
}
