import { z } from 'zod';
import { badRequest, FieldProblem } from './http';

/** Zod issues as field problems a client can act on: `price: must be a finite number`. */
export function fieldProblems(error: z.ZodError): FieldProblem[] {
  return error.issues.flatMap((issue): FieldProblem[] => {
    const at = issue.path.join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: at ? `${at}.${key}` : key, message: 'unknown field' }));
    }
    return [{ field: at || '(body)', message: issue.message }];
  });
}

/** Parses `input` or throws a 400 problem listing every bad field. */
export function validate<S extends z.ZodType>(schema: S, input: unknown, what = 'request body'): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const errors = fieldProblems(result.error);
  throw badRequest(`invalid ${what}: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`, errors);
}

const queryInt = () => z.coerce.number({ error: 'must be an integer' }).int('must be an integer');

/** `?limit=&offset=` for list routes: limit defaults to, and may not exceed, the documented page maximum. */
export function paginationFields(maxPage: number) {
  return {
    limit: queryInt().min(1, 'must be at least 1').max(maxPage, `must be at most ${maxPage}`).default(maxPage),
    offset: queryInt().min(0, 'must not be negative').max(2_147_483_647, 'is too large').default(0),
  };
}
