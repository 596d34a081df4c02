import { QueryTypes, Sequelize, Transaction } from 'sequelize';
import { inTransaction, notFound, Page } from '@portable-dapr/common';
import { productEvent, ProductEventType } from '../events/product-events';
import type { CatalogModels, Product, ProductDto } from '../models';

export interface ProductFields {
  name: string;
  type: string;
  price: number;
}

/**
 * The products: every read, and every change, each change committed in one transaction with the event
 * that tells the audit service about it (the outbox row the relay publishes). Changes to one product are
 * serialised by a row lock, so their events are recorded in the order they commit.
 */
export class Products {
  constructor(
    private readonly sequelize: Sequelize,
    private readonly models: CatalogModels,
    /** Called once a change and its event have committed: the relay publishes now, not at its next poll. */
    private readonly onEventCommitted: () => void = () => undefined,
  ) {}

  async list({ limit, offset }: Page): Promise<ProductDto[]> {
    const products = await this.models.Product.findAll({ order: [['id', 'ASC']], limit, offset });
    return products.map((p) => p.toDto());
  }

  /** Throws a 404 problem when the product does not exist. */
  async get(id: number): Promise<ProductDto> {
    const product = await this.models.Product.findByPk(id);
    if (!product) throw notFound(`product ${id} does not exist`);
    return product.toDto();
  }

  create(fields: ProductFields): Promise<ProductDto> {
    if (this.sequelize.getDialect() === 'postgres') return this.committed(this.insertWithEvent(fields));
    return this.committed(
      inTransaction(this.sequelize, async (transaction) => {
        const created = (await this.models.Product.create(fields, { transaction })).toDto();
        await this.record('product.created', created, transaction);
        return created;
      }),
    );
  }

  /** Throws a 404 problem when the product does not exist. */
  update(id: number, fields: ProductFields): Promise<ProductDto> {
    return this.committed(
      inTransaction(this.sequelize, async (transaction) => {
        const product = await this.lock(id, transaction);
        await product.update(fields, { transaction });
        const updated = product.toDto();
        await this.record('product.updated', updated, transaction);
        return updated;
      }),
    );
  }

  /** Throws a 404 problem when the product does not exist; answers the deleted product. */
  remove(id: number): Promise<ProductDto> {
    return this.committed(
      inTransaction(this.sequelize, async (transaction) => {
        const product = await this.lock(id, transaction);
        await product.destroy({ transaction });
        const deleted = product.toDto();
        await this.record('product.deleted', deleted, transaction);
        return deleted;
      }),
    );
  }

  private async committed(change: Promise<ProductDto>): Promise<ProductDto> {
    const product = await change;
    this.onEventCommitted();
    return product;
  }

  /**
   * PostgreSQL: the product and its event in one statement, which is its own transaction and one round
   * trip instead of four. The event is made before the id exists; the statement writes the id the insert
   * assigned into it.
   */
  private async insertWithEvent(fields: ProductFields): Promise<ProductDto> {
    const now = new Date();
    const event = productEvent('product.created', { id: 0, ...fields }, now);
    const [row] = await this.sequelize.query<{ id: number }>(INSERT_PRODUCT_WITH_EVENT_SQL, {
      bind: [fields.name, fields.type, fields.price, event.eventId, event.eventType, JSON.stringify(event), now],
      type: QueryTypes.SELECT,
    });
    if (!row) throw new Error('the product insert returned no id');
    return { id: Number(row.id), ...fields };
  }

  private async lock(id: number, transaction: Transaction): Promise<Product> {
    const [row] = await this.sequelize.query<Product>(selectProductForUpdateSql(this.sequelize.getDialect()), {
      replacements: { id },
      model: this.models.Product,
      mapToModel: true,
      type: QueryTypes.SELECT,
      transaction,
    });
    if (!row) throw notFound(`product ${id} does not exist`);
    return row;
  }

  private async record(type: ProductEventType, product: ProductDto, transaction: Transaction): Promise<void> {
    await recordProductEvent(this.models.OutboxEvent, type, product, transaction);
  }
}

/** Records the event of a product change inside the caller's transaction (the outbox row). */
export async function recordProductEvent(
  outbox: CatalogModels['OutboxEvent'],
  type: ProductEventType,
  product: ProductDto,
  transaction: Transaction,
): Promise<void> {
  const event = productEvent(type, product);
  await outbox.create(
    {
      eventId: event.eventId,
      eventType: event.eventType,
      subjectId: product.id,
      payload: JSON.stringify(event),
      publishedAt: null,
      lastError: null,
    },
    { transaction },
  );
}

const INSERT_PRODUCT_WITH_EVENT_SQL = `
WITH product AS (INSERT INTO products (name, type, price) VALUES ($1, $2, $3) RETURNING id)
INSERT INTO outbox_events (event_id, event_type, subject_id, payload, created_at)
SELECT $4, $5, product.id, jsonb_set($6::jsonb, '{product,id}', to_jsonb(product.id))::text, $7 FROM product
RETURNING subject_id AS id`;

/**
 * One product, locked until the transaction ends, so concurrent changes to it commit (and are recorded
 * in the outbox) one after the other. SQL Server has no FOR UPDATE: a lock hint says the same.
 */
function selectProductForUpdateSql(dialect: string): string {
  return dialect === 'mssql'
    ? 'SELECT * FROM products WITH (UPDLOCK, ROWLOCK) WHERE id = :id'
    : 'SELECT * FROM products WHERE id = :id FOR UPDATE';
}
