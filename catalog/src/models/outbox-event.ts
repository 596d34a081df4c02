import { CreationOptional, DataTypes, InferAttributes, InferCreationAttributes, Model, Sequelize } from 'sequelize';

/**
 * An event waiting to be published (publishedAt null) or already published. Written in the same
 * transaction as the product change it describes, so neither exists without the other.
 */
export class OutboxEvent extends Model<InferAttributes<OutboxEvent>, InferCreationAttributes<OutboxEvent>> {
  /** Insertion order; the relay publishes in this order. */
  declare seq: CreationOptional<number>;
  declare eventId: string;
  declare eventType: string;
  declare subjectId: number;
  /** The event's data, as published (JSON text). */
  declare payload: string;
  declare createdAt: CreationOptional<Date>;
  /**
   * Null until published; then when the relay claimed the event for the publish that succeeded (its
   * publish began then; one time for a claimed batch, so a batch's events are stamped alike).
   */
  declare publishedAt: Date | null;
  declare attempts: CreationOptional<number>;
  declare lastError: string | null;
  /** The relay that holds the event while it publishes it, and until when (outbox/claims.ts). */
  declare claimedBy: CreationOptional<string | null>;
  declare claimedUntil: CreationOptional<Date | null>;
}

export function initOutboxEvent(sequelize: Sequelize): typeof OutboxEvent {
  // A subclass per connection: two Sequelize instances in one process (tests, two relays) never share a binding.
  return class extends OutboxEvent {}.init(
    {
      seq: {
        type: DataTypes.BIGINT,
        autoIncrement: true,
        primaryKey: true,
        get(this: OutboxEvent) {
          return Number(this.getDataValue('seq'));
        },
      },
      eventId: { type: DataTypes.STRING(36), allowNull: false, unique: true },
      eventType: { type: DataTypes.STRING(40), allowNull: false },
      subjectId: { type: DataTypes.INTEGER, allowNull: false },
      payload: { type: DataTypes.TEXT, allowNull: false },
      createdAt: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
      publishedAt: { type: DataTypes.DATE, allowNull: true },
      attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      lastError: { type: DataTypes.STRING(1000), allowNull: true },
      claimedBy: { type: DataTypes.STRING(36), allowNull: true },
      claimedUntil: { type: DataTypes.DATE, allowNull: true },
    },
    { sequelize, modelName: 'OutboxEvent', tableName: 'outbox_events', timestamps: false, underscored: true },
  );
}
