import { badRequest } from './problem';

/** Route ids are positive integers that fit the database's INT column; anything else is a 400. */
export function parseId(raw: string | undefined, name = 'id'): number {
  if (raw === undefined || !/^[1-9]\d{0,9}$/.test(raw) || Number(raw) > 2_147_483_647) {
    throw badRequest(`${name} must be a positive integer`, [{ field: name, message: 'must be a positive integer' }]);
  }
  return Number(raw);
}

/** The params of a route on one item (`/:id`), for a handler written apart from its route. */
export type IdParams = { id: string };
