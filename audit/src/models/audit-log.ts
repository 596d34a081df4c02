import { CreationOptional, DataTypes, InferAttributes, InferCreationAttributes, Model, Sequelize } from 'sequelize';

export const LOG_MESSAGE_MAX = 1000;

export class AuditLog extends Model<InferAttributes<AuditLog>, InferCreationAttributes<AuditLog>> {
  declare id: CreationOptional<number>;
  /** When the audited change happened, UTC. */
  declare timeStamp: Date;
  declare logMessage: string;
  /** Unique: the idempotency key a redelivered event collides on. */
  declare eventId: string;
  declare eventType: string;
  declare source: string;
  declare subjectId: number | null;
  /** The event's data as JSON text. */
  declare payload: string | null;
  /** When this service wrote the entry, UTC (timeStamp is when the change happened). */
  declare recordedAt: CreationOptional<Date>;

  toDto(): AuditLogDto {
    return {
      id: this.id,
      timeStamp: this.timeStamp.toISOString(),
      logMessage: this.logMessage,
      eventId: this.eventId,
      eventType: this.eventType,
      source: this.source,
      subjectId: this.subjectId,
      payload: this.payload === null ? null : (JSON.parse(this.payload) as unknown),
      recordedAt: this.recordedAt.toISOString(),
    };
  }
}

export interface AuditLogDto {
  id: number;
  timeStamp: string;
  logMessage: string;
  eventId: string;
  eventType: string;
  source: string;
  subjectId: number | null;
  payload: unknown;
  recordedAt: string;
}

export function initAuditLog(sequelize: Sequelize): typeof AuditLog {
  // A subclass per connection: two Sequelize instances in one process (tests, two relays) never share a binding.
  return class extends AuditLog {}.init(
    {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      timeStamp: { type: DataTypes.DATE(3), allowNull: false },
      logMessage: { type: DataTypes.STRING(LOG_MESSAGE_MAX), allowNull: false },
      eventId: { type: DataTypes.STRING(64), allowNull: false, unique: true },
      eventType: { type: DataTypes.STRING(64), allowNull: false },
      source: { type: DataTypes.STRING(128), allowNull: false },
      subjectId: { type: DataTypes.INTEGER, allowNull: true },
      payload: { type: DataTypes.TEXT, allowNull: true },
      recordedAt: { type: DataTypes.DATE(3), allowNull: false, defaultValue: DataTypes.NOW },
    },
    { sequelize, modelName: 'AuditLog', tableName: 'audit_logs', timestamps: false, underscored: true },
  );
}
