import { createProductInput } from '../../catalog/src/routes/product-input';
import { checkProductBody } from './product-body';

/** The raw pipeline's hand-written check accepts and refuses exactly what the catalog's schema does. */
describe('the raw pipeline’s product body check', () => {
  const bodies: unknown[] = [
    { name: 'Bench pen', type: 'Office', price: 2.5 },
    { name: 'Pen', type: 'Office', price: 0 },
    { name: 'Pen', type: 'Office', price: 1_000_000_000 },
    { name: 'Pen', type: 'Office', price: 1_000_000_001 },
    { name: 'Pen', type: 'Office', price: -1 },
    { name: 'Pen', type: 'Office', price: '2' },
    { name: 'Pen', type: 'Office' },
    { name: '', type: 'Office', price: 1 },
    { name: '   ', type: 'Office', price: 1 },
    { name: 'x'.repeat(100), type: 'y'.repeat(50), price: 1 },
    { name: 'x'.repeat(101), type: 'Office', price: 1 },
    { name: 'Pen', type: 'y'.repeat(51), price: 1 },
    { name: 'Pe\u0000n', type: 'Office', price: 1 },
    { name: 'Pe\u0085n', type: 'Office', price: 1 },
    { name: 'Pe\uD800n', type: 'Office', price: 1 },
    { name: 'Pen 🖊', type: 'Office', price: 1 },
    { name: 7, type: 'Office', price: 1 },
    { name: 'Pen', type: 'Office', price: 1, id: 0 },
    { name: 'Pen', type: 'Office', price: 1, id: 3 },
    { name: 'Pen', type: 'Office', price: 1, id: 1.5 },
    { name: 'Pen', type: 'Office', price: 1, colour: 'red' },
    [],
    null,
    'Pen',
  ];

  it.each(bodies.map((b) => [JSON.stringify(b), b]))('%s', (_label, body) => {
    const theirs = createProductInput.safeParse(body);
    const ours = checkProductBody(body);
    expect(ours.ok).toBe(theirs.success);
    if (ours.ok && theirs.success)
      expect(ours.value).toEqual({ name: theirs.data.name, type: theirs.data.type, price: theirs.data.price });
  });
});
