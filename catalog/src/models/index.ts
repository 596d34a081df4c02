import type { Sequelize } from 'sequelize';
import { initOutboxEvent, OutboxEvent } from './outbox-event';
import { initProduct, Product } from './product';

export interface CatalogModels {
  Product: typeof Product;
  OutboxEvent: typeof OutboxEvent;
}

export function initModels(sequelize: Sequelize): CatalogModels {
  return { Product: initProduct(sequelize), OutboxEvent: initOutboxEvent(sequelize) };
}

export { OutboxEvent, Product };
export type { ProductDto } from './product';
