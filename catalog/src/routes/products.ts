import { Router } from 'express';
import {
  badRequest,
  linkNextPage,
  methodNotAllowed,
  notFound,
  parseId,
  requireJsonBody,
  validate,
} from '@portable-dapr/common';
import type { CatalogModels } from '../models';
import type { ProductChanges } from '../product-changes';
import { createProductInput, pageQuery, updateProductInput } from './product-input';

export interface ProductsDeps {
  models: CatalogModels;
  changes: ProductChanges;
  maxPageSize: number;
}

/**
 * The Products API, kept as the .NET CatalogAPI served it so existing clients keep working. A change is
 * answered once it and its event have committed, whatever the broker's state.
 */
export function productsRouter({ models: { Product }, changes, maxPageSize }: ProductsDeps): Router {
  const router = Router();
  const query = pageQuery(maxPageSize);

  router.get('/', async (req, res) => {
    const page = validate(query, req.query, 'query');
    const products = await Product.findAll({ order: [['id', 'ASC']], limit: page.limit, offset: page.offset });
    linkNextPage(req, res, page, products.length);
    res.json(products.map((p) => p.toDto()));
  });

  router.get('/:id', async (req, res) => {
    const id = parseId(req.params.id);
    const product = await Product.findByPk(id);
    if (!product) throw notFound(`product ${id} does not exist`);
    res.json(product.toDto());
  });

  router.post('/', async (req, res) => {
    const { name, type, price } = validate(createProductInput, requireJsonBody(req));
    const product = await changes.create({ name, type, price });
    res.status(201).location(`${req.baseUrl}/${product.id}`).json(product.toDto());
  });

  router.put('/:id', async (req, res) => {
    const id = parseId(req.params.id);
    const { id: bodyId, name, type, price } = validate(updateProductInput, requireJsonBody(req));
    if (bodyId !== undefined && bodyId !== id) {
      throw badRequest(`the body's id (${bodyId}) differs from the path's (${id})`, [
        { field: 'id', message: 'must match the id in the path' },
      ]);
    }
    await changes.update(id, { name, type, price });
    res.status(204).end();
  });

  router.delete('/:id', async (req, res) => {
    const deleted = await changes.remove(parseId(req.params.id));
    res.status(200).json(deleted.toDto());
  });

  router.all('/', methodNotAllowed(['GET', 'POST']));
  router.all('/:id', methodNotAllowed(['GET', 'PUT', 'DELETE']));
  return router;
}
