import { z } from 'zod';
import {
  baseEnvSchema,
  ConfigError,
  DbDialect,
  env,
  parseEnv,
  ServiceConfig,
  serviceConfigFrom,
} from '@portable-dapr/common';
import type { BindingEngine } from './sinks/sql';

export const auditEnvSchema = baseEnvSchema.extend({
  PORT: env.integer(5002, 1, 65535),
  /**
   * Where consumed events are written: through the Dapr SQL output binding (default), or straight
   * through Sequelize, for engines Dapr has no binding for (SQL Server / Azure SQL).
   */
  AUDIT_SINK: z.enum(['binding', 'sequelize']).default('binding'),
  AUDIT_BINDING_NAME: z
    .string()
    .regex(/^[\w-]{1,63}$/, 'a Dapr component name')
    .default('audit-db'),
  /** The SQL dialect the binding speaks; defaults from DB_DIALECT (the binding targets the same database). */
  AUDIT_BINDING_ENGINE: z.enum(['postgresql', 'mysql']).optional(),
  /** PUT/DELETE on /api/auditlogs answer 403 unless this is true: the trail is append-only. */
  AUDIT_ALLOW_MUTATIONS: env.booleanFlag(false),
  /** Largest bulk delivery the event route accepts (Dapr bulk subscribe; daprd's own limit is 4 MiB). */
  BODY_LIMIT: env.size('4mb'),
});

const ENGINE_FOR: Partial<Record<DbDialect, BindingEngine>> = {
  postgres: 'postgresql',
  mariadb: 'mysql',
  mysql: 'mysql',
};

/** Where consumed events are written, with what that path needs. */
export type SinkConfig = { kind: 'binding'; bindingName: string; engine: BindingEngine } | { kind: 'sequelize' };

export interface AuditConfig extends ServiceConfig {
  sink: SinkConfig;
  /** PUT/DELETE on /api/auditlogs allowed (AUDIT_ALLOW_MUTATIONS). */
  allowMutations: boolean;
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): AuditConfig {
  const e = parseEnv(auditEnvSchema, source);
  const engine = e.AUDIT_BINDING_ENGINE ?? ENGINE_FOR[e.DB_DIALECT];
  let sink: SinkConfig = { kind: 'sequelize' };
  if (e.AUDIT_SINK === 'binding') {
    if (!engine)
      throw new ConfigError([
        `AUDIT_SINK: Dapr has no SQL output binding for DB_DIALECT=${e.DB_DIALECT}; ` +
          'set AUDIT_SINK=sequelize (or AUDIT_BINDING_ENGINE if a binding does reach this database)',
      ]);
    sink = { kind: 'binding', bindingName: e.AUDIT_BINDING_NAME, engine };
  }
  return {
    ...serviceConfigFrom(e, __dirname),
    sink,
    allowMutations: e.AUDIT_ALLOW_MUTATIONS,
  };
}
