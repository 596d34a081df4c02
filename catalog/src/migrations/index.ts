import type { Migration } from '@portable-dapr/common';
import { createProducts } from './0001-create-products';
import { createOutboxEvents } from './0002-create-outbox-events';
import { addOutboxClaims } from './0003-outbox-claims';

/** Applied in this order; append new migrations, never edit released ones. */
export const migrations: Migration[] = [createProducts, createOutboxEvents, addOutboxClaims];
