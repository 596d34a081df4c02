import type { Request, Response } from 'express';
import { z } from 'zod';
import { badRequest, FieldProblem } from './http/problem';

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

/** Which items a list answers: `limit` of them, after the first `offset`, in id order. */
export interface Page {
  limit: number;
  offset: number;
}

/** `?limit=&offset=` for list routes: limit defaults to, and may not exceed, the documented page maximum. */
export function paginationFields(maxPage: number) {
  return {
    limit: queryInt().min(1, 'must be at least 1').max(maxPage, `must be at most ${maxPage}`).default(maxPage),
    offset: queryInt().min(0, 'must not be negative').max(2_147_483_647, 'is too large').default(0),
  };
}

/** A list route's query when it takes no filters: the page only, and nothing else. */
export const pageQuery = (maxPage: number) => z.strictObject(paginationFields(maxPage));

/**
 * Sets `Link: <?limit=…&offset=…>; rel="next"` when a page came back full. The target is a relative
 * reference made of a query only: a client resolves it against the URL it requested (RFC 3986 §5.2.2),
 * so the link stays under whatever prefix the request went through (a sidecar's
 * /v1.0/invoke/<app-id>/method/...), and the request's other parameters (filters) are kept.
 */
export function linkNextPage(req: Request, res: Response, page: Page, returned: number): void {
  if (returned < page.limit) return;
  const params = new URLSearchParams(req.query as Record<string, string>);
  params.set('limit', String(page.limit));
  params.set('offset', String(page.offset + page.limit));
  res.setHeader('Link', `<?${params.toString()}>; rel="next"`);
}
