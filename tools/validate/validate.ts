import { Context, ValidateOptions } from './context';
import { isObject, Problem, Resource, SourcedResource } from './model';
import { RULES } from './rules';

export type { ValidateOptions } from './context';

/**
 * Runs this project's rules (rules.ts) over a set of documents. Returns problems instead of throwing, so
 * a caller reports them all at once. Whether each document is a valid object of its kind is checked by
 * the API server (server.ts).
 */
export function validateDocuments(input: (Resource | SourcedResource)[], options: ValidateOptions): Problem[] {
  const items = input.map((d) =>
    isObject(d) && 'resource' in d && isObject(d.resource)
      ? (d as unknown as SourcedResource)
      : { resource: d as Resource },
  );
  const ctx = new Context(items, options);
  for (const rule of RULES) rule(ctx);
  return ctx.problems;
}
