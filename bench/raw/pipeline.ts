import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pino from 'pino';
import { migrate, Migration } from '@portable-dapr/common';
import { migrations as auditMigrations } from '../../audit/src/migrations';
import { migrations as catalogMigrations } from '../../catalog/src/migrations';
import { connectTestDatabase, createTestDatabases, runId } from '../../test/support/databases';
import { waitUntil } from '../../test/support/wait';
import { PROJECT_ROOT } from '../../tools/dapr/versions';
import { freePort, ManagedProcess } from '../../tools/stack';
import { tailOf } from '../../tools/stack/process';
import { productCreatedEvent } from './product-event';

/** The servers the raw pipeline shares with the stack: the same PostgreSQL and Redis. */
export const PG = { host: '127.0.0.1', port: 5432, user: 'postgres' };
export const REDIS_PORT = 6379;
const GROUP = 'audit';

/** A database migrated with a service's own migrations: the raw pipeline works on the same tables. */
export async function migrateDatabase(database: string, migrations: Migration[]): Promise<void> {
  // Two connections: the migration lock holds one while the migrations run on the other.
  const sequelize = connectTestDatabase('postgres', database, 2);
  await migrate(sequelize, migrations, pino({ level: 'silent' })).finally(() => sequelize.close());
}

/**
 * The same pipeline without Dapr and without the services' frameworks (bench/raw/writer.ts and
 * consumer.ts), on throwaway databases of its own and a stream of its own, each part a process.
 */
export class RawPipeline {
  readonly writer: ManagedProcess;
  readonly consumer: ManagedProcess;

  private constructor(
    readonly dbs: { catalog: string; audit: string },
    readonly stream: string,
    readonly port: number,
    private readonly logDir: string,
    private readonly redis: Redis,
    private readonly dropDatabases: () => Promise<void>,
  ) {
    const env = {
      ...process.env,
      PGHOST: PG.host,
      PGPORT: String(PG.port),
      PGUSER: PG.user,
      REDIS_URL: `redis://127.0.0.1:${REDIS_PORT}`,
      STREAM: stream,
      GROUP,
      CATALOG_DB: dbs.catalog,
      AUDIT_DB: dbs.audit,
      PORT: String(port),
    };
    // node --import tsx: the script runs in this very process (its pid is the one measured), no wrapper.
    const part = (name: string, file: string) =>
      new ManagedProcess({
        name,
        command: process.execPath,
        args: ['--import', 'tsx', join(PROJECT_ROOT, 'bench', 'raw', file)],
        cwd: PROJECT_ROOT,
        env,
        logFile: join(logDir, `${name}.log`),
      });
    this.writer = part('raw-writer', 'writer.ts');
    this.consumer = part('raw-consumer', 'consumer.ts');
  }

  static async start(): Promise<RawPipeline> {
    const dbs = await createTestDatabases('postgres', ['catalog', 'audit'], 'benchraw');
    await migrateDatabase(dbs.names.catalog, catalogMigrations);
    await migrateDatabase(dbs.names.audit, auditMigrations);
    const redis = new Redis({ host: '127.0.0.1', port: REDIS_PORT, lazyConnect: true });
    await redis.connect();
    const stream = `raw-products-${runId()}`;
    await redis.xgroup('CREATE', stream, GROUP, '0', 'MKSTREAM');
    const logDir = mkdtempSync(join(tmpdir(), 'bench-raw-'));
    const pipeline = new RawPipeline(dbs.names, stream, await freePort(), logDir, redis, dbs.drop);
    pipeline.consumer.start();
    pipeline.writer.start();
    const answers = async () => {
      if (!pipeline.writer.running)
        throw new Error(`the raw writer exited: ${tailOf(join(logDir, 'raw-writer.log'), 20)}`);
      return (await fetch(`${pipeline.url}/healthz`).catch(() => undefined))?.ok ? true : undefined;
    };
    await waitUntil('the raw writer to answer', answers, 60_000, 100).catch(async (err: unknown) => {
      await pipeline.stop();
      throw err;
    });
    return pipeline;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get writeUrl(): string {
    return `${this.url}/api/products`;
  }

  /** Queues `count` events as the relay writes them (one XADD each), for a drain while the consumer is stopped. */
  async queue(count: number, firstId: number): Promise<void> {
    for (let i = 0; i < count; i += 1000) {
      const pipeline = this.redis.pipeline();
      for (let k = i; k < Math.min(count, i + 1000); k++)
        pipeline.xadd(
          this.stream,
          '*',
          'source',
          'catalog',
          'data',
          JSON.stringify(productCreatedEvent(backlogProduct(firstId + k), new Date())),
        );
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([err]) => err !== null);
      if (failed) throw new Error(`XADD: ${String(failed[0])}`);
    }
  }

  async stop(): Promise<void> {
    await Promise.all([this.writer.stop(), this.consumer.stop()]);
    await this.redis.del(this.stream).catch(() => undefined);
    this.redis.disconnect();
    await this.dropDatabases();
    rmSync(this.logDir, { recursive: true, force: true });
  }
}

const backlogProduct = (id: number) => ({ id, name: `Backlog ${id}`, type: 'Office', price: 2.5 });
