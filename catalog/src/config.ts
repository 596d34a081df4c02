import { z } from 'zod';
import { baseEnvSchema, env, parseEnv, ServiceConfig, serviceConfigFrom } from '@portable-dapr/common';

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
  /** After a round that found events, how long the relay lets the next batch gather (0: no wait). */
  RELAY_LINGER_MS: env.integer(10, 0, 1_000),
  /** Longest pause between publish attempts while the broker fails (daprd's resiliency retries within each). */
  RELAY_MAX_BACKOFF_MS: env.integer(5_000, 100, 600_000),
  /** Published events are kept this long for inspection, then deleted. 0 keeps them forever. */
  OUTBOX_RETENTION_HOURS: env.integer(24, 0, 24 * 365),
  RELAY_ENABLED: env.booleanFlag(true),
});

export interface CatalogConfig extends ServiceConfig {
  pubsub: { name: string; topic: string };
  relay: {
    enabled: boolean;
    batchSize: number;
    pollMs: number;
    lingerMs: number;
    maxBackoffMs: number;
    retentionHours: number;
  };
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): CatalogConfig {
  const e = parseEnv(catalogEnvSchema, source);
  return {
    ...serviceConfigFrom(e, __dirname),
    pubsub: { name: e.PUBSUB_NAME, topic: e.PUBSUB_TOPIC },
    relay: {
      enabled: e.RELAY_ENABLED,
      batchSize: e.RELAY_BATCH_SIZE,
      pollMs: e.RELAY_POLL_MS,
      lingerMs: e.RELAY_LINGER_MS,
      maxBackoffMs: e.RELAY_MAX_BACKOFF_MS,
      retentionHours: e.OUTBOX_RETENTION_HOURS,
    },
  };
}
