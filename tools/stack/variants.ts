import { dirname, join, relative, resolve } from 'node:path';
import { PROJECT_ROOT } from '../dapr/versions';
import type { RunFile } from './run-file';

/**
 * The brokers and SQL engines the stack runs on. Each is a folder of components/ holding one component
 * of the same name as the others' (`pubsub`, `audit-db`); choosing one swaps that folder in the run
 * file's resourcesPaths and, for SQL, the apps' DB_* settings. No application code differs between them.
 */
export const BROKERS = ['redis', 'rabbitmq', 'mqtt', 'jetstream'] as const;
export const SQL_ENGINES = ['postgres', 'mariadb'] as const;
export type Broker = (typeof BROKERS)[number];
export type SqlEngine = (typeof SQL_ENGINES)[number];

export const COMPONENTS_DIR = join(PROJECT_ROOT, 'components');
export const BROKERS_DIR = join(COMPONENTS_DIR, 'brokers');
export const SQL_DIR = join(COMPONENTS_DIR, 'sql');

export interface Endpoint {
  service: string;
  host: string;
  port: number;
  /** How to start it on a Debian machine like CI's, for the error message when it is down. */
  startHint: string;
}

export interface BrokerVariant {
  endpoint: Endpoint;
}

export const BROKER_VARIANTS: Record<Broker, BrokerVariant> = {
  redis: {
    endpoint: {
      service: 'Redis',
      host: '127.0.0.1',
      port: 6379,
      startHint:
        'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no (or: sudo systemctl start redis-server)',
    },
  },
  rabbitmq: {
    endpoint: {
      service: 'RabbitMQ',
      host: '127.0.0.1',
      port: 5672,
      startHint: 'rabbitmq-server -detached (or: sudo systemctl start rabbitmq-server)',
    },
  },
  mqtt: {
    endpoint: {
      service: 'Mosquitto (MQTT)',
      host: '127.0.0.1',
      port: 1883,
      startHint: 'mosquitto -d -c /etc/mosquitto/mosquitto.conf (or: sudo systemctl start mosquitto)',
    },
  },
  jetstream: {
    endpoint: {
      service: 'NATS JetStream',
      host: '127.0.0.1',
      port: 4222,
      startHint: 'nats-server -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server &',
    },
  },
};

export interface SqlVariant {
  endpoint: Endpoint;
  /** The apps' database settings (DB_NAME comes from dapr.yaml or the test). */
  appEnv: Record<string, string>;
  /** The key in the secret store holding the binding's connection string. */
  bindingSecret: string;
  bindingConnection(database: string): string;
}

export const SQL_VARIANTS: Record<SqlEngine, SqlVariant> = {
  postgres: {
    endpoint: {
      service: 'PostgreSQL',
      host: '127.0.0.1',
      port: 5432,
      startHint: 'pg_ctlcluster $(ls /etc/postgresql) main start (or: sudo systemctl start postgresql)',
    },
    appEnv: { DB_DIALECT: 'postgres', DB_SERVER: '127.0.0.1', DB_PORT: '5432', DB_USER: 'postgres' },
    bindingSecret: 'audit-db-postgresql',
    bindingConnection: (db) => `host=127.0.0.1 port=5432 user=postgres dbname=${db} sslmode=disable`,
  },
  mariadb: {
    endpoint: {
      service: 'MariaDB',
      host: '127.0.0.1',
      port: 3306,
      startHint:
        'start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd (or: sudo systemctl start mariadb)',
    },
    appEnv: { DB_DIALECT: 'mariadb', DB_SERVER: '127.0.0.1', DB_PORT: '3306', DB_USER: 'root' },
    bindingSecret: 'audit-db-mysql',
    bindingConnection: (db) => `root:@tcp(127.0.0.1:3306)/${db}?parseTime=true&loc=UTC`,
  },
};

export function parseBroker(value: string | undefined): Broker {
  const v = value ?? 'redis';
  if (!(BROKERS as readonly string[]).includes(v))
    throw new Error(`unknown broker "${v}"; choose one of ${BROKERS.join(', ')}`);
  return v as Broker;
}

export function parseSqlEngine(value: string | undefined): SqlEngine {
  const v = value ?? 'postgres';
  if (!(SQL_ENGINES as readonly string[]).includes(v))
    throw new Error(`unknown SQL engine "${v}"; choose one of ${SQL_ENGINES.join(', ')}`);
  return v as SqlEngine;
}

/**
 * The run file with `broker` and `sql` chosen, as a user of the CLI would edit it: the folder of each in
 * common.resourcesPaths instead of the one listed, and the SQL engine's DB_* settings in common.env.
 */
export function withVariants(runFile: RunFile, baseDir: string, broker: Broker, sql: SqlEngine): RunFile {
  const swap = (path: string) => {
    const abs = resolve(baseDir, path);
    const chosen =
      dirname(abs) === BROKERS_DIR
        ? join(BROKERS_DIR, broker)
        : dirname(abs) === SQL_DIR
          ? join(SQL_DIR, sql)
          : undefined;
    return chosen ? `./${relative(baseDir, chosen)}` : path;
  };
  const common = runFile.common ?? {};
  return {
    ...runFile,
    common: {
      ...common,
      resourcesPaths: common.resourcesPaths?.map(swap),
      env: { ...common.env, ...SQL_VARIANTS[sql].appEnv },
    },
  };
}
