import { createLogger, createSequelize, runMain, runMigrations } from '@portable-dapr/common';
import { loadConfig } from './config';
import { migrations } from './migrations';

/** `npm run migrate -w audit`: applies pending migrations under a database lock, then exits. */
runMain(async () => {
  const config = loadConfig();
  const logger = createLogger('audit-migrate', config.LOG_LEVEL);
  await runMigrations(createSequelize(config.db, logger), migrations, logger);
});
