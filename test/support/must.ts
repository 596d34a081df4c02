/**
 * `value`, or a failure that names what is missing: for a lookup the test expects to succeed (an array
 * element, a find, a match), instead of a `!` that would fail later with "cannot read properties of
 * undefined".
 */
export function must<T>(value: T | null | undefined, what: string): T {
  if (value === undefined || value === null) throw new Error(`expected ${what}, found none`);
  return value;
}
