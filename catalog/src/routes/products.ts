import { RequestHandler, Router } from 'express';
import {
  IdParams,
  itemRoute,
  listRoute,
  methodNotAllowed,
  pageQuery,
  parseId,
  requireJsonBody,
  requireSameId,
  validate,
} from '@portable-dapr/common';
import type { Products } from '../use-cases/products';
import { createProductInput, updateProductInput } from './product-input';

export interface ProductsDeps {
  products: Products;
  maxPageSize: number;
}

/**
 * The Products API, kept as the .NET CatalogAPI served it so existing clients keep working. A change is
 * answered once it and its event have committed, whatever the broker's state.
 */
export function productsRouter({ products, maxPageSize }: ProductsDeps): Router {
  const router = Router();
  router.get(
    '/',
    listRoute(pageQuery(maxPageSize), (page) => products.list(page)),
  );
  router.get(
    '/:id',
    itemRoute((id) => products.get(id)),
  );
  router.post('/', createProduct(products));
  router.put('/:id', updateProduct(products));
  router.delete('/:id', deleteProduct(products));
  router.all('/', methodNotAllowed(['GET', 'POST']));
  router.all('/:id', methodNotAllowed(['GET', 'PUT', 'DELETE']));
  return router;
}

function createProduct(products: Products): RequestHandler {
  return async (req, res) => {
    const { name, type, price } = validate(createProductInput, requireJsonBody(req));
    const product = await products.create({ name, type, price });
    res.status(201).location(`${req.baseUrl}/${product.id}`).json(product);
  };
}

function updateProduct(products: Products): RequestHandler<IdParams> {
  return async (req, res) => {
    const id = parseId(req.params.id);
    const { id: bodyId, name, type, price } = validate(updateProductInput, requireJsonBody(req));
    requireSameId(id, bodyId);
    await products.update(id, { name, type, price });
    res.status(204).end();
  };
}

function deleteProduct(products: Products): RequestHandler<IdParams> {
  return async (req, res) => {
    res.status(200).json(await products.remove(parseId(req.params.id)));
  };
}
