import { z } from 'zod';
import { paginationFields } from '@portable-dapr/common';
import { LOG_MESSAGE_MAX } from '../models/audit-log';

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

const logMessage = z
  .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') })
  .min(1, 'must not be empty')
  .max(LOG_MESSAGE_MAX, `must be at most ${LOG_MESSAGE_MAX} characters`)
  .refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters');

const timeStamp = z.iso.datetime({
  offset: true,
  error: 'must be an ISO-8601 date-time with a zone, e.g. 2024-05-01T12:00:00Z',
});

/** A hand-written entry (POST, kept for existing clients): a message, optionally when and about what. */
export const createAuditLogInput = z.strictObject({
  id: z.literal(0, { error: 'is assigned by the server; leave it out' }).optional(),
  logMessage,
  timeStamp: timeStamp.optional(),
  eventType: z.string().min(1).max(64).optional(),
  subjectId: z.number().int().positive().max(2_147_483_647).nullable().optional(),
});

export const updateAuditLogInput = z.strictObject({
  id: z.number({ error: 'must be an integer' }).int().optional(),
  logMessage,
  timeStamp,
});

export const listQuery = (maxPage: number) =>
  z
    .strictObject({
      ...paginationFields(maxPage),
      eventType: z.string().min(1).max(64).optional(),
      subjectId: z.coerce
        .number({ error: 'must be an integer' })
        .int('must be an integer')
        .positive()
        .max(2_147_483_647)
        .optional(),
      from: timeStamp.optional(),
      to: timeStamp.optional(),
    })
    .refine((q) => !q.from || !q.to || new Date(q.from) <= new Date(q.to), {
      message: 'must not be after to',
      path: ['from'],
    });
