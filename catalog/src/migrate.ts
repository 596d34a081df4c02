import { runMigrateCommand } from '@portable-dapr/common';
import { loadConfig } from './config';
import { migrations } from './migrations';

/** `npm run migrate -w catalog`: applies pending migrations under a database lock, then exits. */
runMigrateCommand('catalog', loadConfig, migrations);
