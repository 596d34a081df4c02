import { runService, sidecarCheck } from '@portable-dapr/common';
import { createApp } from './app';
import { loadConfig } from './config';
import { migrations } from './migrations';
import { initModels } from './models';
import { DaprEventPublisher } from './outbox/publisher';
import { OutboxRelay } from './outbox/relay';
import { Products } from './use-cases/products';

/** The catalog: the Products API, and the relay that publishes each committed change's event. */
runService('catalog', {
  loadConfig,
  migrations,
  start: ({ config, logger, sequelize, dapr, shell }) => {
    const models = initModels(sequelize);
    const { pubsub, relay: relayConfig } = config;
    const publisher = new DaprEventPublisher(dapr, pubsub.name, pubsub.topic, sidecarCheck(config.sidecar));
    const relay = new OutboxRelay(sequelize, models.OutboxEvent, publisher, logger, relayConfig);
    const products = new Products(sequelize, models, () => relay.wake());
    return {
      app: createApp({ shell, products, maxPageSize: config.maxPageSize }),
      describe: { pubsub: pubsub.name, topic: pubsub.topic, relay: relayConfig.enabled },
      afterListen: () => {
        if (relayConfig.enabled) relay.start();
      },
      beforeClose: (timeoutMs) => relay.stop(timeoutMs),
    };
  },
});
