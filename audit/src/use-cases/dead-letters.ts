import { notFound, Page } from '@portable-dapr/common';
import type { AuditModels, DeadLetterDto } from '../models';

/**
 * The dead letters as the API shows them, read-only: poison events are kept and visible, never silently
 * discarded. They are written by DeadLetterConsumer, through the sink.
 */
export class DeadLetters {
  constructor(private readonly models: AuditModels) {}

  async list({ limit, offset }: Page): Promise<DeadLetterDto[]> {
    const rows = await this.models.DeadLetter.findAll({ order: [['id', 'ASC']], limit, offset });
    return rows.map((r) => r.toDto());
  }

  /** Throws a 404 problem when the dead letter does not exist. */
  async get(id: number): Promise<DeadLetterDto> {
    const row = await this.models.DeadLetter.findByPk(id);
    if (!row) throw notFound(`dead letter ${id} does not exist`);
    return row.toDto();
  }
}
