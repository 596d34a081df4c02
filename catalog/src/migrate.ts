import { createLogger, createSequelize, runMain, runMigrations } from '@portable-dapr/common';
import { loadConfig } from './config';
import { migrations } from './migrations';

/** `npm run migrate -w catalog`: applies pending migrations under a database lock, then exits. */
runMain(async () => {
  const config = loadConfig();
  const logger = createLogger('catalog-migrate', config.LOG_LEVEL);
  await runMigrations(createSequelize(config.db, logger), migrations, logger);
});
