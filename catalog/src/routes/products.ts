import { Router } from 'express';
import { QueryTypes, Sequelize, Transaction } from 'sequelize';
import {
  badRequest,
  inTransaction,
  linkNextPage,
  methodNotAllowed,
  notFound,
  parseId,
  requireJsonBody,
  validate,
} from '@portable-dapr/common';
import type { CatalogModels, Product } from '../models';
import { selectProductForUpdateSql } from '../models/locking';
import { recordProductEvent } from '../outbox/outbox';
import { createProductInput, pageQuery, updateProductInput } from './product-input';

export interface ProductsDeps {
  sequelize: Sequelize;
  models: CatalogModels;
  maxPageSize: number;
  /** Called after a transaction that wrote an outbox event has committed. */
  onEventCommitted: () => void;
}

/**
 * The Products API, the original CatalogAPI's contract: every change and its outbox event commit in one
 * transaction, and the answer is sent after the commit whatever the broker's state.
 */
export function productsRouter({ sequelize, models, maxPageSize, onEventCommitted }: ProductsDeps): Router {
  const { Product, OutboxEvent } = models;
  const router = Router();
  const query = pageQuery(maxPageSize);

  const lockProduct = async (id: number, transaction: Transaction): Promise<Product> => {
    const [row] = await sequelize.query<Product>(selectProductForUpdateSql(sequelize.getDialect()), {
      replacements: { id },
      model: Product,
      mapToModel: true,
      type: QueryTypes.SELECT,
      transaction,
    });
    if (!row) throw notFound(`product ${id} does not exist`);
    return row;
  };

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
    const product = await inTransaction(sequelize, async (transaction) => {
      const created = await Product.create({ name, type, price }, { transaction });
      await recordProductEvent(OutboxEvent, 'product.created', created.toDto(), transaction);
      return created;
    });
    onEventCommitted();
    res.status(201).location(`${req.baseUrl}/${product.id}`).json(product.toDto());
  });

  router.put('/:id', async (req, res) => {
    const id = parseId(req.params.id);
    const input = validate(updateProductInput, requireJsonBody(req));
    if (input.id !== undefined && input.id !== id) {
      throw badRequest(`the body's id (${input.id}) differs from the path's (${id})`, [
        { field: 'id', message: 'must match the id in the path' },
      ]);
    }
    await inTransaction(sequelize, async (transaction) => {
      const product = await lockProduct(id, transaction);
      await product.update({ name: input.name, type: input.type, price: input.price }, { transaction });
      await recordProductEvent(OutboxEvent, 'product.updated', product.toDto(), transaction);
    });
    onEventCommitted();
    res.status(204).end();
  });

  router.delete('/:id', async (req, res) => {
    const id = parseId(req.params.id);
    const deleted = await inTransaction(sequelize, async (transaction) => {
      const product = await lockProduct(id, transaction);
      await product.destroy({ transaction });
      await recordProductEvent(OutboxEvent, 'product.deleted', product.toDto(), transaction);
      return product;
    });
    onEventCommitted();
    res.status(200).json(deleted.toDto());
  });

  router.all('/', methodNotAllowed(['GET', 'POST']));
  router.all('/:id', methodNotAllowed(['GET', 'PUT', 'DELETE']));
  return router;
}
