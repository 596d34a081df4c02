import type { Express } from 'express';
import { createServiceApp, ServiceShell } from '@portable-dapr/common';
import type { CatalogModels } from './models';
import type { ProductChanges } from './product-changes';
import { productsRouter } from './routes/products';

export interface CatalogAppDeps {
  shell: ServiceShell;
  models: CatalogModels;
  changes: ProductChanges;
  maxPageSize: number;
}

/** The HTTP surface of the catalog, from injected dependencies (no I/O happens here). */
export function createApp({ shell, models, changes, maxPageSize }: CatalogAppDeps): Express {
  return createServiceApp(shell, (app) => {
    app.use('/api/products', productsRouter({ models, changes, maxPageSize }));
  });
}
