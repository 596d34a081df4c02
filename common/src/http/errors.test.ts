import express from 'express';
import pino from 'pino';
import { ConnectionAcquireTimeoutError, ConnectionError } from 'sequelize';
import request from 'supertest';
import { errorHandler } from './errors';
import { PROBLEM_CONTENT_TYPE } from './problem';

function appThrowing(err: Error) {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) },
  );
  const app = express();
  app.get('/x', () => {
    throw err;
  });
  app.use(errorHandler(logger));
  return { app, lines };
}

describe('the error handler', () => {
  it("titles each problem with its status's standard reason phrase", async () => {
    for (const [status, title] of [
      [404, 'Not Found'],
      [409, 'Conflict'],
      [413, 'Payload Too Large'],
      [422, 'Unprocessable Entity'],
    ] as const) {
      const { app } = appThrowing(Object.assign(new Error('refused'), { status }));
      const res = await request(app).get('/x');
      expect([res.status, (res.body as { title: string }).title]).toEqual([status, title]);
    }
  });

  it('answers 503 with Retry-After when no database connection could be had', async () => {
    const { app, lines } = appThrowing(
      new ConnectionAcquireTimeoutError(new ConnectionError(new Error('pool exhausted'))),
    );
    const res = await request(app).get('/x');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
    expect(lines.map((l) => l.msg)).toEqual(['database unavailable']);
  });

  it('answers 500 to anything else and logs it once', async () => {
    const { app, lines } = appThrowing(new Error('boom'));
    const res = await request(app).get('/x');
    expect(res.status).toBe(500);
    expect((res.body as { detail: string }).detail).not.toContain('boom');
    expect(lines.map((l) => l.msg)).toEqual(['unhandled error']);
  });
});
