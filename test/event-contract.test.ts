import { interpretProductEvent, PRODUCT_EVENT_TYPES as AUDIT_TYPES } from '../audit/src/events/product-events';
import { PRODUCT_EVENT_TYPES as CATALOG_TYPES, productEvent } from '../catalog/src/events/product-events';
import { NAME_MAX, TYPE_MAX } from '../catalog/src/models/product';
import { PRICE_MAX } from '../catalog/src/routes/product-input';

/**
 * The product event contract is declared on both sides; this feeds what the catalog publishes into what
 * the audit service accepts, for every event type and at every limit the catalog lets a product reach.
 * The envelope is the CloudEvent daprd builds from the relay's publish (id, type, source overridden).
 */
function delivered(
  type: (typeof CATALOG_TYPES)[number],
  product: { id: number; name: string; type: string; price: number },
) {
  const data = productEvent(type, product);
  return {
    data,
    ce: {
      specversion: '1.0',
      id: data.eventId,
      type,
      source: 'catalog',
      datacontenttype: 'application/json',
      data: JSON.parse(JSON.stringify(data)) as unknown,
    },
  };
}

const longest = (n: number) => '𝄞é'.repeat(n).slice(0, n); // astral and accented characters, n UTF-16 units
const products = {
  smallest: { id: 1, name: 'P', type: 'T', price: 0 },
  largest: { id: 2_147_483_647, name: longest(NAME_MAX), type: longest(TYPE_MAX), price: PRICE_MAX },
  fractional: { id: 7, name: 'O\'Brien "quoted" <b>', type: 'Office', price: 0.01 },
};

describe('the product event contract, catalog → audit', () => {
  it('has the same event types on both sides', () => {
    expect([...AUDIT_TYPES].sort()).toEqual([...CATALOG_TYPES].sort());
  });

  describe.each(CATALOG_TYPES)('%s', (type) => {
    it.each(Object.entries(products))('is accepted for the %s product, every field carried over', (_label, product) => {
      const { data, ce } = delivered(type, product);
      const result = interpretProductEvent(ce);
      if (!result.ok) throw new Error(`refused: ${result.reason}`);
      expect(result.row).toEqual({
        eventId: data.eventId,
        eventType: type,
        source: 'catalog',
        subjectId: product.id,
        timeStamp: new Date(data.occurredAt),
        logMessage: data.message,
        payload: JSON.stringify(ce.data),
      });
    });
  });
});
