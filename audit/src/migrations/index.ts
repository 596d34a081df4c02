import type { Migration } from '@portable-dapr/common';
import { createAuditLogs } from './0001-create-audit-logs';
import { createDeadLetters } from './0002-create-dead-letters';

/** Applied in this order; append new migrations, never edit released ones. */
export const migrations: Migration[] = [createAuditLogs, createDeadLetters];
