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

/** An update's body may repeat the item's id, but only as the path gives it; anything else is a 400. */
export function requireSameId(pathId: number, bodyId: number | undefined): void {
  if (bodyId !== undefined && bodyId !== pathId) {
    throw badRequest(`the body's id (${bodyId}) differs from the path's (${pathId})`, [
      { field: 'id', message: 'must match the id in the path' },
    ]);
  }
}
