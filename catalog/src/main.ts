import {
  createDaprClient,
  createLogger,
  createSequelize,
  listen,
  onTerminate,
  prepareDatabase,
  runMain,
  sidecarCheck,
} from '@portable-dapr/common';
import { createApp } from './app';
import { loadConfig } from './config';
import { migrations } from './migrations';
import { initModels } from './models';
import { DaprEventPublisher } from './outbox/publisher';
import { OutboxRelay } from './outbox/relay';

/** Wires the catalog: config → database → sidecar client → outbox relay → HTTP server → shutdown. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('catalog', config.LOG_LEVEL);
  const sequelize = createSequelize(config.db, logger);
  const models = initModels(sequelize);
  await prepareDatabase(sequelize, migrations, config.MIGRATE_ON_START, logger);

  const dapr = createDaprClient(config, logger);
  const relay = new OutboxRelay(
    sequelize,
    models.OutboxEvent,
    new DaprEventPublisher(dapr, config.PUBSUB_NAME, config.PUBSUB_TOPIC, sidecarCheck(config)),
    logger,
    {
      batchSize: config.RELAY_BATCH_SIZE,
      pollMs: config.RELAY_POLL_MS,
      maxBackoffMs: config.RELAY_MAX_BACKOFF_MS,
      retentionHours: config.OUTBOX_RETENTION_HOURS,
    },
  );

  let shuttingDown = false;
  const app = createApp({
    sequelize,
    models,
    logger,
    version: config.version,
    appApiToken: config.APP_API_TOKEN,
    bodyLimit: config.BODY_LIMIT,
    maxPageSize: config.MAX_PAGE_SIZE,
    readiness: { database: () => sequelize.authenticate(), sidecar: sidecarCheck(config) },
    isShuttingDown: () => shuttingDown,
    onEventCommitted: () => relay.wake(),
  });
  const server = await listen(app, config.PORT);
  if (config.RELAY_ENABLED) relay.start();
  logger.info(
    {
      port: server.port,
      version: config.version,
      pubsub: config.PUBSUB_NAME,
      topic: config.PUBSUB_TOPIC,
      relay: config.RELAY_ENABLED,
    },
    'catalog listening',
  );

  onTerminate(logger, async () => {
    shuttingDown = true;
    await server.close(config.SHUTDOWN_TIMEOUT_MS);
    await relay.stop(config.SHUTDOWN_TIMEOUT_MS);
    await dapr.stop();
    await sequelize.close();
  });
}

runMain(main);
