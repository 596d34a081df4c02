import type { Express } from 'express';
import { createServiceApp, ServiceShell } from '@portable-dapr/common';
import { productsRouter } from './routes/products';
import type { Products } from './use-cases/products';

export interface CatalogAppDeps {
  shell: ServiceShell;
  products: Products;
  maxPageSize: number;
}

/** The HTTP surface of the catalog: its routes over its use cases, injected (no I/O happens here). */
export function createApp({ shell, products, maxPageSize }: CatalogAppDeps): Express {
  return createServiceApp(shell, (app) => {
    app.use('/api/products', productsRouter({ products, maxPageSize }));
  });
}
