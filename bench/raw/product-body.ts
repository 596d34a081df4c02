/**
 * The POST /api/products body checked by hand, with the catalog's rules (catalog/src/routes/product-input.ts)
 * and no validation library: the raw pipeline must refuse what the catalog refuses, or it would be doing
 * less work for the same request. product-body.test.ts holds the two to the same verdicts.
 */
export interface ProductBody {
  name: string;
  type: string;
  price: number;
}

export type BodyCheck = { ok: true; value: ProductBody } | { ok: false; errors: { field: string; message: string }[] };

const NAME_MAX = 100;
const TYPE_MAX = 50;
const PRICE_MAX = 1_000_000_000;
const FIELDS = new Set(['name', 'type', 'price', 'id']);

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function textError(value: unknown, max: number): string | undefined {
  if (value === undefined) return 'is required';
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0) return 'must not be empty';
  if (value.length > max) return `must be at most ${max} characters`;
  if (value.trim().length === 0) return 'must not be blank';
  if (CONTROL_CHARS.test(value)) return 'must not contain control characters';
  if (LONE_SURROGATE.test(value)) return 'must be well-formed Unicode';
  return undefined;
}

function priceError(value: unknown): string | undefined {
  if (value === undefined) return 'is required';
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a finite number';
  if (value < 0) return 'must not be negative';
  if (value > PRICE_MAX) return `must be at most ${PRICE_MAX}`;
  return undefined;
}

/** The id is the database's to assign; 0 (a .NET client's default) is tolerated, as the catalog does. */
function idError(value: unknown): string | undefined {
  if (value === undefined || value === 0) return undefined;
  return Number.isInteger(value) ? 'is assigned by the server; leave it out' : 'must be an integer';
}

export function checkProductBody(body: unknown): BodyCheck {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, errors: [{ field: 'body', message: 'must be an object' }] };
  const fields = body as Record<string, unknown>;
  const errors: { field: string; message: string }[] = [];
  const found = (field: string, message: string | undefined) => message && errors.push({ field, message });
  found('name', textError(fields.name, NAME_MAX));
  found('type', textError(fields.type, TYPE_MAX));
  found('price', priceError(fields.price));
  found('id', idError(fields.id));
  for (const key of Object.keys(fields)) if (!FIELDS.has(key)) found(key, 'is not a known field');
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: { name: fields.name as string, type: fields.type as string, price: fields.price as number },
  };
}
