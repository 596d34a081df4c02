import { z } from 'zod';
import { baseEnvSchema, dbConfigFrom, env, packageVersion, parseEnv } from '@portable-dapr/common';

export const catalogEnvSchema = baseEnvSchema.extend({
  PORT: env.integer(5001, 1, 65535),
  PUBSUB_NAME: z
    .string()
    .regex(/^[\w-]{1,63}$/, 'a Dapr component name')
    .default('pubsub'),
  PUBSUB_TOPIC: z
    .string()
    .regex(/^[\w.-]{1,249}$/, 'a topic name')
    .default('products'),
  /** Events the relay publishes per claim; also the batch size of one publish round. */
  RELAY_BATCH_SIZE: env.integer(100, 1, 1000),
  /** How often an idle relay looks for events written by other replicas. */
  RELAY_POLL_MS: env.integer(500, 10, 60_000),
  /** Longest pause between publish attempts while the broker fails (daprd's resiliency retries within each). */
  RELAY_MAX_BACKOFF_MS: env.integer(5_000, 100, 600_000),
  /** Published events are kept this long for inspection, then deleted. 0 keeps them forever. */
  OUTBOX_RETENTION_HOURS: env.integer(24, 0, 24 * 365),
  RELAY_ENABLED: env.booleanFlag(true),
});

export type CatalogConfig = ReturnType<typeof loadConfig>;

export function loadConfig(source: NodeJS.ProcessEnv = process.env) {
  const e = parseEnv(catalogEnvSchema, source);
  return { ...e, version: e.SERVICE_VERSION ?? packageVersion(__dirname), db: dbConfigFrom(e) };
}
