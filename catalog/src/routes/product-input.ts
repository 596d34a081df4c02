import { z } from 'zod';
import { NAME_MAX, TYPE_MAX } from '../models/product';

/** Largest accepted price: well inside a double's exact-integer range, and no catalog needs more. */
export const PRICE_MAX = 1_000_000_000;

// C0/C1 control characters (NUL cannot even be stored by PostgreSQL) have no place in a name.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const text = (max: number) =>
  z
    .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') })
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((s) => s.trim().length > 0, 'must not be blank')
    .refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters')
    // A lone UTF-16 surrogate cannot be stored as UTF-8; it would come back altered.
    .refine((s) => !LONE_SURROGATE.test(s), 'must be well-formed Unicode');

const price = z
  .number({ error: (i) => (i.input === undefined ? 'is required' : 'must be a number') })
  .refine(Number.isFinite, 'must be a finite number')
  .refine((n) => n >= 0, 'must not be negative')
  .refine((n) => n <= PRICE_MAX, `must be at most ${PRICE_MAX}`);

const productFields = {
  name: text(NAME_MAX),
  type: text(TYPE_MAX),
  price,
};

const idField = z.number({ error: 'must be an integer' }).int('must be an integer');

/** POST body: the id is the database's to assign; 0 (a .NET client's default) is tolerated. */
export const createProductInput = z.strictObject({
  ...productFields,
  id: idField.refine((id) => id === 0, 'is assigned by the server; leave it out').optional(),
});

/** PUT body: the whole product; an id, if given, must be the one in the path (checked by the route). */
export const updateProductInput = z.strictObject({ ...productFields, id: idField.optional() });

export type CreateProductInput = z.infer<typeof createProductInput>;
export type UpdateProductInput = z.infer<typeof updateProductInput>;
