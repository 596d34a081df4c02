import { connect as tcpConnect } from 'node:net';
import { Client as PgClient } from 'pg';
import { createConnection as mariadbConnection } from 'mariadb';
import { connect as natsConnect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { deadLetterTopicOf } from './resources';
import type { Endpoint, SqlEngine } from './variants';

/** Fails at once, naming the service and how to start it, when nothing listens at its address. */
export async function requireReachable(e: Endpoint, timeoutMs = 2_000): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      const socket = tcpConnect({ host: e.host, port: e.port });
      const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.end();
        resolve();
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  } catch (err) {
    throw new Error(
      `${e.service} is not reachable at ${e.host}:${e.port} (${(err as Error).message}). Start it, e.g.: ${e.startHint}`,
      { cause: err },
    );
  }
}

const DB_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function checkedName(name: string): string {
  if (!DB_NAME.test(name)) throw new Error(`refusing database name "${name}": use lower-case letters, digits and _`);
  return name;
}

/** Administration of the local database servers, for `npm start` and the tests. */
export interface DatabaseAdmin {
  /** Creates the database if it does not exist yet; returns whether it was created. */
  ensureDatabase(name: string): Promise<boolean>;
  dropDatabase(name: string): Promise<void>;
}

export function databaseAdmin(engine: SqlEngine, host = '127.0.0.1', port?: number): DatabaseAdmin {
  return engine === 'postgres' ? postgresAdmin(host, port ?? 5432) : mariadbAdmin(host, port ?? 3306);
}

function postgresAdmin(host: string, port: number): DatabaseAdmin {
  const withClient = async <T>(fn: (c: PgClient) => Promise<T>): Promise<T> => {
    const client = new PgClient({ host, port, user: 'postgres', database: 'postgres' });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  return {
    ensureDatabase: (name) =>
      withClient(async (c) => {
        const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [checkedName(name)]);
        if (exists.rowCount) return false;
        try {
          await c.query(`CREATE DATABASE ${name} ENCODING 'UTF8' TEMPLATE template0`);
          return true;
        } catch (err) {
          // Another setup created it meanwhile: duplicate_database, or the catalog's unique index.
          if (['42P04', '23505'].includes((err as { code?: string }).code ?? '')) return false;
          throw err;
        }
      }),
    dropDatabase: (name) =>
      withClient(async (c) => void (await c.query(`DROP DATABASE IF EXISTS ${checkedName(name)} WITH (FORCE)`))),
  };
}

function mariadbAdmin(host: string, port: number): DatabaseAdmin {
  const withConn = async <T>(fn: (c: Awaited<ReturnType<typeof mariadbConnection>>) => Promise<T>): Promise<T> => {
    const conn = await mariadbConnection({ host, port, user: 'root', password: '' });
    try {
      return await fn(conn);
    } finally {
      await conn.end();
    }
  };
  return {
    ensureDatabase: (name) =>
      withConn(async (c) => {
        // IF NOT EXISTS makes concurrent setups safe; a database that was already there affects no row.
        const result = await c.query<{ affectedRows: number }>(
          `CREATE DATABASE IF NOT EXISTS \`${checkedName(name)}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
        );
        return result.affectedRows === 1;
      }),
    dropDatabase: (name) =>
      withConn(async (c) => void (await c.query(`DROP DATABASE IF EXISTS \`${checkedName(name)}\``))),
  };
}

export const NATS_URL = 'nats://127.0.0.1:4222';

/**
 * JetStream only stores messages on subjects a stream covers, and the Dapr component does not create
 * streams. The topic and its dead-letter topic get a stream each: the component's durable consumer
 * name is per stream, and one durable consumer cannot serve two subjects.
 */
export async function provisionJetStream(topic: string, streamPrefix: string, url = NATS_URL): Promise<void> {
  await ensureJetStreamStream(url, streamPrefix, [topic]);
  await ensureJetStreamStream(url, `${streamPrefix}-deadletter`, [deadLetterTopicOf(topic)]);
}

export async function deleteJetStreamStreams(streamPrefix: string, url = NATS_URL): Promise<void> {
  const nc = await natsConnect({ servers: url, timeout: 3_000 });
  try {
    const jsm = await jetstreamManager(nc);
    for (const name of [streamPrefix, `${streamPrefix}-deadletter`]) await jsm.streams.delete(name).catch(() => false);
  } finally {
    await nc.close();
  }
}

async function ensureJetStreamStream(url: string, stream: string, subjects: string[]): Promise<void> {
  const nc = await natsConnect({ servers: url, timeout: 3_000 });
  try {
    const jsm = await jetstreamManager(nc);
    try {
      const info = await jsm.streams.info(stream);
      const missing = subjects.filter((s) => !info.config.subjects?.includes(s));
      if (missing.length)
        await jsm.streams.update(stream, { ...info.config, subjects: [...(info.config.subjects ?? []), ...missing] });
    } catch (err) {
      if (!/stream not found/i.test((err as Error).message)) throw err;
      await jsm.streams.add({ name: stream, subjects });
    }
  } finally {
    await nc.close();
  }
}
