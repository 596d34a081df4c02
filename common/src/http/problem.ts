import { STATUS_CODES } from 'node:http';
import type { Response } from 'express';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface FieldProblem {
  field: string;
  message: string;
}

/** An RFC 9457 problem: what a client needs to fix its request. Titled with the status's reason phrase. */
export class HttpProblem extends Error {
  readonly title: string;

  constructor(
    readonly status: number,
    readonly detail?: string,
    readonly errors?: FieldProblem[],
  ) {
    const title = STATUS_CODES[status] ?? 'Error';
    super(detail ?? title);
    this.title = title;
    this.name = 'HttpProblem';
  }
}

export function sendProblem(res: Response, problem: HttpProblem): void {
  res
    .status(problem.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(
      JSON.stringify({
        type: 'about:blank',
        title: problem.title,
        status: problem.status,
        ...(problem.detail ? { detail: problem.detail } : {}),
        instance: res.req.originalUrl,
        ...(problem.errors ? { errors: problem.errors } : {}),
      }),
    );
}

export const badRequest = (detail: string, errors?: FieldProblem[]) => new HttpProblem(400, detail, errors);
export const notFound = (detail: string) => new HttpProblem(404, detail);
