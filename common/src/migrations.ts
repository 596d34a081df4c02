import { QueryInterface, Sequelize, Transaction } from 'sequelize';
import { SequelizeStorage, Umzug } from 'umzug';
import type { Logger } from 'pino';

export interface Migration {
  /** Versioned, sortable name such as `0001-create-products`; never renamed once released. */
  name: string;
  up(qi: QueryInterface, sequelize: Sequelize): Promise<void>;
  down(qi: QueryInterface, sequelize: Sequelize): Promise<void>;
}

type Ctx = { qi: QueryInterface; sequelize: Sequelize };

export function createMigrator(sequelize: Sequelize, migrations: Migration[], logger: Logger): Umzug<Ctx> {
  return new Umzug<Ctx>({
    migrations: migrations.map((m) => ({
      name: m.name,
      up: ({ context }) => m.up(context.qi, context.sequelize),
      down: ({ context }) => m.down(context.qi, context.sequelize),
    })),
    context: { qi: sequelize.getQueryInterface(), sequelize },
    storage: new SequelizeStorage({ sequelize, tableName: 'schema_migrations' }),
    logger: {
      info: (m) => logger.info(m, 'migration'),
      warn: (m) => logger.warn(m, 'migration'),
      error: (m) => logger.error(m, 'migration'),
      debug: (m) => logger.debug(m, 'migration'),
    },
  });
}

const LOCK_NAME = 'schema_migrations';
/** pg_advisory_xact_lock takes a bigint; any fixed number unique to this purpose will do. */
const PG_LOCK_KEY = 7_263_482_011;
const LOCK_TIMEOUT_S = 120;

/**
 * Holds a database-wide lock for the duration of `fn`, so replicas or jobs starting at the same time
 * run migrations one after another: the second finds nothing pending. The lock lives in a transaction
 * (or session) on its own pooled connection; the migrations themselves run on other connections.
 */
export async function withMigrationLock<T>(sequelize: Sequelize, fn: () => Promise<T>): Promise<T> {
  const dialect = sequelize.getDialect();
  return sequelize.transaction(async (t: Transaction) => {
    const q = (sql: string, replacements: Record<string, unknown> = {}) =>
      sequelize.query(sql, { transaction: t, replacements, plain: true });
    switch (dialect) {
      case 'postgres':
        await q('SELECT pg_advisory_xact_lock(:key)', { key: PG_LOCK_KEY });
        return fn();
      case 'mssql': {
        const row = (await q(
          'DECLARE @r int; ' +
            "EXEC @r = sp_getapplock @Resource = :name, @LockMode = 'Exclusive', @LockOwner = 'Transaction', " +
            '@LockTimeout = :ms; ' +
            'SELECT @r AS result',
          { name: LOCK_NAME, ms: LOCK_TIMEOUT_S * 1000 },
        )) as { result: number } | null;
        if (!row || row.result < 0)
          throw new Error(`could not take the migration lock (sp_getapplock returned ${row?.result})`);
        return fn();
      }
      case 'mariadb':
      case 'mysql': {
        const row = (await q('SELECT GET_LOCK(:name, :timeout) AS result', {
          name: LOCK_NAME,
          timeout: LOCK_TIMEOUT_S,
        })) as { result: number } | null;
        if (!row || Number(row.result) !== 1) throw new Error('could not take the migration lock (GET_LOCK timed out)');
        try {
          return await fn();
        } finally {
          await q('SELECT RELEASE_LOCK(:name)', { name: LOCK_NAME });
        }
      }
      default:
        throw new Error(`no migration lock for dialect ${dialect}`);
    }
  });
}

/** Applies pending migrations under the lock and returns their names. */
export async function migrate(sequelize: Sequelize, migrations: Migration[], logger: Logger): Promise<string[]> {
  const migrator = createMigrator(sequelize, migrations, logger);
  const applied = await withMigrationLock(sequelize, () => migrator.up());
  return applied.map((m) => m.name);
}

export async function pendingMigrations(
  sequelize: Sequelize,
  migrations: Migration[],
  logger: Logger,
): Promise<string[]> {
  const migrator = createMigrator(sequelize, migrations, logger);
  return (await migrator.pending()).map((m) => m.name);
}

/** Connects, then migrates (MIGRATE_ON_START) or refuses to serve a schema older than the code. */
export async function prepareDatabase(
  sequelize: Sequelize,
  migrations: Migration[],
  migrateOnStart: boolean,
  logger: Logger,
): Promise<void> {
  try {
    await sequelize.authenticate();
  } catch (err) {
    const { host, port, database } = sequelize.config;
    throw new Error(
      `cannot reach the ${sequelize.getDialect()} database ${database} at ${host ?? 'local'}:${port ?? ''}: ` +
        (err as Error).message,
      { cause: err },
    );
  }
  if (migrateOnStart) {
    const applied = await migrate(sequelize, migrations, logger);
    logger.info({ applied }, 'migrations applied');
    return;
  }
  const pending = await pendingMigrations(sequelize, migrations, logger);
  if (pending.length) {
    throw new Error(
      `the database schema is behind the code (pending: ${pending.join(', ')}); ` +
        'run the migrate command first, or set MIGRATE_ON_START=true',
    );
  }
}

/** The body of each service's `migrate` command. */
export async function runMigrations(sequelize: Sequelize, migrations: Migration[], logger: Logger): Promise<void> {
  try {
    await sequelize.authenticate();
    const applied = await migrate(sequelize, migrations, logger);
    logger.info({ applied }, applied.length ? 'migrations applied' : 'schema already up to date');
  } finally {
    await sequelize.close();
  }
}
