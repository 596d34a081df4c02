import type { DaprClient } from '@dapr/dapr';
import { AuditRow, AuditSink, DeadLetterRow, SinkError } from './audit-sink';
import { isDataErrorMessage } from './data-errors';
import { BindingEngine, insertAuditLogs, insertDeadLetter, Statement } from './sql';

/** Writes through the Dapr SQL output binding (`exec` with `params`). */
export class BindingSink implements AuditSink {
  constructor(
    private readonly client: DaprClient,
    private readonly bindingName: string,
    private readonly engine: BindingEngine,
  ) {}

  /** A batch too large for one request goes as several, at once (each is idempotent on its own). */
  async insertAuditLogs(rows: AuditRow[]): Promise<void> {
    if (rows.length) await Promise.all(insertAuditLogs(this.engine, rows).map((s) => this.exec(s)));
  }

  insertDeadLetter(row: DeadLetterRow): Promise<void> {
    return this.exec(insertDeadLetter(this.engine, row));
  }

  private async exec({ sql, params }: Statement): Promise<void> {
    try {
      // binding.send throws on any non-2xx answer from the sidecar, with the binding's error text.
      await this.client.binding.send(this.bindingName, 'exec', undefined, { sql, params: JSON.stringify(params) });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new SinkError(
        `binding ${this.bindingName} exec failed: ${message}`.slice(0, 2000),
        !isDataErrorMessage(message),
      );
    }
  }
}
