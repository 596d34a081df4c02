import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { config as loadDotenv } from 'dotenv';
import { z } from 'zod';

/** Thrown when the environment does not describe a runnable service; the message names each bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export const DB_DIALECTS = ['postgres', 'mssql', 'mariadb', 'mysql'] as const;
export type DbDialect = (typeof DB_DIALECTS)[number];

const DEFAULT_DB_PORTS: Record<DbDialect, number> = {
  postgres: 5432,
  mssql: 1433,
  mariadb: 3306,
  mysql: 3306,
};

/** Empty strings count as unset, so `FOO=` in a .env file falls back to the default. */
const optionalString = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());
const booleanFlag = (fallback: boolean) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v !== '' ? v.toLowerCase() : v === '' ? undefined : v),
    z
      .enum(['true', 'false', '1', '0'])
      .optional()
      .transform((v) => (v === undefined ? fallback : v === 'true' || v === '1')),
  );
/** An optional whole number within bounds (no default: absent means "use the dialect's own"). */
const optionalInteger = (min: number, max: number) =>
  z.preprocess(
    (v) => (v === '' || v === undefined ? undefined : Number(v)),
    z.number().int().min(min).max(max).optional(),
  );
const integer = (fallback: number, min: number, max: number) =>
  z.preprocess(
    (v) => (v === '' || v === undefined ? undefined : Number(v)),
    z.number().int().min(min).max(max).default(fallback),
  );

/** A body size such as `100kb` or `4mb`. */
const size = (fallback: string) =>
  z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, 'a size such as 100kb')
    .default(fallback);

export const env = { optionalString, booleanFlag, integer, size };

/** Variables every service reads the same way: HTTP, logging, database, sidecar, shutdown. */
export const baseEnvSchema = z.object({
  PORT: integer(3000, 1, 65535),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SERVICE_VERSION: optionalString,
  DB_DIALECT: z.enum(DB_DIALECTS).default('postgres'),
  DATABASE_URL: optionalString,
  DB_SERVER: optionalString,
  DB_PORT: optionalInteger(1, 65535),
  DB_NAME: optionalString,
  DB_USER: optionalString,
  DB_PASSWORD: optionalString,
  DB_POOL_MAX: integer(10, 1, 200),
  DB_SSL: booleanFlag(false),
  MIGRATE_ON_START: booleanFlag(false),
  DAPR_HOST: z.string().default('127.0.0.1'),
  DAPR_HTTP_PORT: integer(3500, 1, 65535),
  DAPR_API_TOKEN: optionalString,
  APP_API_TOKEN: optionalString,
  SHUTDOWN_TIMEOUT_MS: integer(10_000, 0, 600_000),
  BODY_LIMIT: size('100kb'),
  /** Largest page a list answers; also its default. */
  MAX_PAGE_SIZE: integer(1000, 1, 10_000),
});

export type BaseEnv = z.infer<typeof baseEnvSchema>;

export interface DbConfig {
  dialect: DbDialect;
  /** A full connection URL; when set, host/port/name/user/password come from it. */
  url?: string;
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  password?: string;
  poolMax: number;
  ssl: boolean;
}

/**
 * Reads `.env` (without overriding real environment variables) and validates `source` against `schema`.
 * Every problem is reported at once so an operator fixes a deployment in one round.
 */
export function parseEnv<S extends z.ZodType>(schema: S, source: NodeJS.ProcessEnv = process.env): z.infer<S> {
  if (source === process.env) loadDotenv({ quiet: true });
  // The Dapr CLI tells an app its port in APP_PORT; PORT, when set, wins.
  const result = schema.safeParse({ ...source, PORT: source.PORT ?? source.APP_PORT });
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  return result.data;
}

/** Turns the DB_* variables (the names existing deployments set) or DATABASE_URL into one database description. */
export function dbConfigFrom(e: BaseEnv): DbConfig {
  const problems: string[] = [];
  const base = { dialect: e.DB_DIALECT, poolMax: e.DB_POOL_MAX, ssl: e.DB_SSL };
  if (e.DATABASE_URL) {
    try {
      new URL(e.DATABASE_URL);
    } catch {
      problems.push('DATABASE_URL: not a valid URL');
    }
    if (problems.length) throw new ConfigError(problems);
    return { ...base, url: e.DATABASE_URL };
  }
  if (!e.DB_SERVER) problems.push(`DB_SERVER: required for DB_DIALECT=${e.DB_DIALECT} (or set DATABASE_URL)`);
  if (!e.DB_NAME) problems.push(`DB_NAME: required for DB_DIALECT=${e.DB_DIALECT} (or set DATABASE_URL)`);
  if (problems.length) throw new ConfigError(problems);
  const port = e.DB_PORT ?? DEFAULT_DB_PORTS[e.DB_DIALECT];
  return { ...base, host: e.DB_SERVER, port, database: e.DB_NAME, user: e.DB_USER, password: e.DB_PASSWORD };
}

/** The version in the service's package.json (one level above `src/` or `dist/`). */
export function packageVersion(serviceDir: string): string {
  return (JSON.parse(readFileSync(join(serviceDir, '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** The sidecar this process talks to. */
export interface SidecarConfig {
  host: string;
  httpPort: number;
  /** Sent on every call when daprd requires it (DAPR_API_TOKEN). */
  apiToken?: string;
}

/** What every service reads the same way, typed and named for the code (the variables stay as documented). */
export interface ServiceConfig {
  port: number;
  logLevel: BaseEnv['LOG_LEVEL'];
  version: string;
  db: DbConfig;
  migrateOnStart: boolean;
  sidecar: SidecarConfig;
  appApiToken?: string;
  shutdownTimeoutMs: number;
  bodyLimit: string;
  maxPageSize: number;
}

/** The shared part of a service's configuration; `serviceDir` finds its package.json for the version. */
export function serviceConfigFrom(e: BaseEnv, serviceDir: string): ServiceConfig {
  return {
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    version: e.SERVICE_VERSION ?? packageVersion(serviceDir),
    db: dbConfigFrom(e),
    migrateOnStart: e.MIGRATE_ON_START,
    sidecar: { host: e.DAPR_HOST, httpPort: e.DAPR_HTTP_PORT, apiToken: e.DAPR_API_TOKEN },
    appApiToken: e.APP_API_TOKEN,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    bodyLimit: e.BODY_LIMIT,
    maxPageSize: e.MAX_PAGE_SIZE,
  };
}
