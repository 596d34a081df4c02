import { runService, sidecarCheck } from '@portable-dapr/common';
import { createApp } from './app';
import { loadConfig } from './config';
import { migrations } from './migrations';
import { initModels, onEventsCommitted } from './models';
import { DaprEventPublisher } from './outbox/publisher';
import { OutboxRelay } from './outbox/relay';
import { ProductChanges } from './product-changes';

/** The catalog: the Products API, and the relay that publishes each committed change's event. */
runService('catalog', {
  loadConfig,
  migrations,
  start: ({ config, logger, sequelize, dapr, shell }) => {
    const models = initModels(sequelize);
    const publisher = new DaprEventPublisher(dapr, config.PUBSUB_NAME, config.PUBSUB_TOPIC, sidecarCheck(config));
    const relay = new OutboxRelay(sequelize, models.OutboxEvent, publisher, logger, {
      batchSize: config.RELAY_BATCH_SIZE,
      pollMs: config.RELAY_POLL_MS,
      maxBackoffMs: config.RELAY_MAX_BACKOFF_MS,
      retentionHours: config.OUTBOX_RETENTION_HOURS,
    });
    onEventsCommitted(models.OutboxEvent, () => relay.wake());
    const changes = new ProductChanges(sequelize, models);
    return {
      app: createApp({ shell, models, changes, maxPageSize: config.MAX_PAGE_SIZE }),
      describe: { pubsub: config.PUBSUB_NAME, topic: config.PUBSUB_TOPIC, relay: config.RELAY_ENABLED },
      afterListen: () => {
        if (config.RELAY_ENABLED) relay.start();
      },
      beforeClose: (timeoutMs) => relay.stop(timeoutMs),
    };
  },
});
