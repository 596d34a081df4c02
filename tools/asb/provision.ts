import type {
  CreateSubscriptionOptions,
  CreateTopicOptions,
  SubscriptionProperties,
  TopicProperties,
} from '@azure/service-bus';

/**
 * Creates the Service Bus entities the Dapr pub/sub component uses, so daprd can run with
 * disableEntityManagement=true (Send/Listen rights only): the topic, its dead-letter topic, and on each
 * the subscription named after the consuming app id (Dapr's default consumerID). Idempotent: existing
 * entities are left alone when their settings match and updated when they drift.
 */

/** The part of ServiceBusAdministrationClient this uses (tests pass a fake). */
export interface AdminClient {
  topicExists(topicName: string): Promise<boolean>;
  createTopic(topicName: string, options?: CreateTopicOptions): Promise<unknown>;
  getTopic(topicName: string): Promise<TopicProperties>;
  updateTopic(topic: TopicProperties): Promise<unknown>;
  subscriptionExists(topicName: string, subscriptionName: string): Promise<boolean>;
  createSubscription(
    topicName: string,
    subscriptionName: string,
    options?: CreateSubscriptionOptions,
  ): Promise<unknown>;
  getSubscription(topicName: string, subscriptionName: string): Promise<SubscriptionProperties>;
  updateSubscription(subscription: SubscriptionProperties): Promise<unknown>;
}

/** Settings we own on a topic; anything else on it is left as found. */
export type TopicSettings = Required<
  Pick<CreateTopicOptions, 'defaultMessageTimeToLive' | 'maxSizeInMegabytes' | 'enableBatchedOperations'>
>;

/** Settings we own on a subscription. */
export type SubscriptionSettings = Required<
  Pick<
    CreateSubscriptionOptions,
    | 'lockDuration'
    | 'maxDeliveryCount'
    | 'deadLetteringOnMessageExpiration'
    | 'defaultMessageTimeToLive'
    | 'enableBatchedOperations'
  >
>;

export interface TopicPlan {
  name: string;
  settings: TopicSettings;
  subscriptions: { name: string; settings: SubscriptionSettings }[];
}

export interface PlanOptions {
  /** The topic the catalog publishes to (PUBSUB_TOPIC). */
  topic: string;
  /** Where daprd moves events the audit app refuses (the Subscription's deadLetterTopic). */
  deadLetterTopic: string;
  /** The consuming app id: Dapr names its Service Bus subscription after it. */
  subscription: string;
  maxDeliveryCount: number;
  /** ISO 8601 duration, at most PT5M; daprd renews the lock every lockRenewalInSec (20 s). */
  lockDuration: string;
  /** ISO 8601 duration a message may wait unconsumed before it is dead-lettered. */
  messageTimeToLive: string;
}

export const DEFAULT_PLAN_OPTIONS: PlanOptions = {
  topic: 'products',
  deadLetterTopic: 'products-deadletter',
  subscription: 'audit',
  maxDeliveryCount: 100,
  lockDuration: 'PT1M',
  messageTimeToLive: 'P14D',
};

export function buildPlan(o: PlanOptions): TopicPlan[] {
  const topic: TopicSettings = {
    defaultMessageTimeToLive: o.messageTimeToLive,
    maxSizeInMegabytes: 1024,
    enableBatchedOperations: true,
  };
  const subscription: SubscriptionSettings = {
    lockDuration: o.lockDuration,
    // Counts deliveries the broker makes (a sidecar that crashed, restarted or gave the message back);
    // daprd's own retries (resiliency, without end) happen within one delivery, so during an outage it
    // counts the restarts of the sidecar holding the message. Past it the broker dead-letters the message
    // into the subscription's $DeadLetterQueue, which dlq:peek and dlq:replay handle.
    maxDeliveryCount: o.maxDeliveryCount,
    deadLetteringOnMessageExpiration: true,
    defaultMessageTimeToLive: o.messageTimeToLive,
    enableBatchedOperations: true,
  };
  return [
    { name: o.topic, settings: topic, subscriptions: [{ name: o.subscription, settings: subscription }] },
    { name: o.deadLetterTopic, settings: topic, subscriptions: [{ name: o.subscription, settings: subscription }] },
  ];
}

/** Seconds in an ISO 8601 duration (P[nD]T[nH][nM][nS]), for comparing what the service returns. */
export function isoDurationSeconds(iso: string): number {
  const m = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(
    iso.trim(),
  );
  if (!m || iso.trim() === 'P' || iso.trim().endsWith('T'))
    throw new Error(`"${iso}" is not an ISO 8601 duration such as PT1M or P14D`);
  const [, d, h, min, s] = m;
  return Number(d ?? 0) * 86_400 + Number(h ?? 0) * 3_600 + Number(min ?? 0) * 60 + Number(s ?? 0);
}

function differences(current: object, desired: object): string[] {
  const cur = current as Record<string, unknown>;
  return Object.entries(desired).flatMap(([key, want]) => {
    const have = cur[key];
    const same =
      typeof want === 'string' && typeof have === 'string' && want.startsWith('P')
        ? isoDurationSeconds(want) === isoDurationSeconds(have)
        : want === have;
    return same ? [] : [`${key}: ${String(have)} -> ${String(want)}`];
  });
}

export interface ProvisionAction {
  entity: string;
  action: 'created' | 'updated' | 'unchanged' | 'would create' | 'would update';
  changes?: string[];
}

export async function provision(
  admin: AdminClient,
  plan: TopicPlan[],
  options: { dryRun?: boolean } = {},
): Promise<ProvisionAction[]> {
  const actions: ProvisionAction[] = [];
  for (const topic of plan) {
    const topicExists = await admin.topicExists(topic.name);
    if (!topicExists) {
      if (!options.dryRun) await admin.createTopic(topic.name, { ...topic.settings });
      actions.push({ entity: `topic ${topic.name}`, action: options.dryRun ? 'would create' : 'created' });
    } else {
      const current = await admin.getTopic(topic.name);
      const changes = differences(current, topic.settings);
      if (changes.length && !options.dryRun) await admin.updateTopic({ ...current, ...topic.settings });
      actions.push({
        entity: `topic ${topic.name}`,
        action: changes.length ? (options.dryRun ? 'would update' : 'updated') : 'unchanged',
        ...(changes.length ? { changes } : {}),
      });
    }
    for (const sub of topic.subscriptions) {
      const entity = `subscription ${topic.name}/${sub.name}`;
      // A topic created in a dry run does not exist yet, so neither can its subscriptions.
      const exists = topicExists && (await admin.subscriptionExists(topic.name, sub.name));
      if (!exists) {
        if (!options.dryRun) await admin.createSubscription(topic.name, sub.name, { ...sub.settings });
        actions.push({ entity, action: options.dryRun ? 'would create' : 'created' });
        continue;
      }
      const current = await admin.getSubscription(topic.name, sub.name);
      const changes = differences(current, sub.settings);
      if (changes.length && !options.dryRun) await admin.updateSubscription({ ...current, ...sub.settings });
      actions.push({
        entity,
        action: changes.length ? (options.dryRun ? 'would update' : 'updated') : 'unchanged',
        ...(changes.length ? { changes } : {}),
      });
    }
  }
  return actions;
}
