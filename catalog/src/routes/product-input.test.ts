import { fieldProblems } from '@portable-dapr/common';
import { must } from '../../../test/support/must';
import { createProductInput, PRICE_MAX, updateProductInput } from './product-input';

const ok = { name: 'Pen', type: 'Office', price: 2.5 };

describe('product input', () => {
  it.each([
    ['a plain product', ok],
    ['a free product', { ...ok, price: 0 }],
    ['the largest price', { ...ok, price: PRICE_MAX }],
    ['a .NET client default id of 0', { ...ok, id: 0 }],
    ['Unicode text with emoji and CJK', { ...ok, name: 'Stylo 🖊️ 笔', type: 'Bürobedarf' }],
    ['SQL look-alike text (stored verbatim)', { ...ok, name: "Robert'); DROP TABLE products;--" }],
    ['script look-alike text (stored verbatim)', { ...ok, name: '<script>alert(1)</script>' }],
    ['exactly 100 characters', { ...ok, name: 'n'.repeat(100) }],
  ])('accepts %s', (_label, body) => {
    expect(createProductInput.safeParse(body).success).toBe(true);
  });

  it.each([
    ['a missing name', { type: 'Office', price: 1 }, 'name', 'is required'],
    ['a numeric name', { ...ok, name: 12 }, 'name', 'must be a string'],
    ['an empty name', { ...ok, name: '' }, 'name', 'must not be empty'],
    ['a blank name', { ...ok, name: '   ' }, 'name', 'must not be blank'],
    ['101 characters', { ...ok, name: 'n'.repeat(101) }, 'name', 'must be at most 100 characters'],
    ['a NUL character', { ...ok, name: 'Pe\u0000n' }, 'name', 'must not contain control characters'],
    ['a lone surrogate', { ...ok, name: 'Pen\ud800' }, 'name', 'must be well-formed Unicode'],
    ['a price given as text', { ...ok, price: '2.5' }, 'price', 'must be a number'],
    ['a price of "NaN"', { ...ok, price: 'NaN' }, 'price', 'must be a number'],
    ['a negative price', { ...ok, price: -0.01 }, 'price', 'must not be negative'],
    ['a price over the maximum', { ...ok, price: 1e300 }, 'price', `must be at most ${PRICE_MAX}`],
    ['a null price', { ...ok, price: null }, 'price', 'must be a number'],
    ['an id in a create', { ...ok, id: 5 }, 'id', 'is assigned by the server; leave it out'],
    ['an unknown field', { ...ok, colour: 'red' }, 'colour', 'unknown field'],
  ])('refuses %s', (_label, body, field, message) => {
    const result = createProductInput.safeParse(body);
    expect(result.success).toBe(false);
    expect(fieldProblems(must(result.error, 'a validation error'))).toContainEqual({ field, message });
  });

  it('refuses a non-integer id in an update', () => {
    expect(updateProductInput.safeParse({ ...ok, id: 1.5 }).success).toBe(false);
    expect(updateProductInput.safeParse({ ...ok, id: 3 }).success).toBe(true);
  });
});
