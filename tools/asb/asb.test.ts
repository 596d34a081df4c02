import type {
  ServiceBusMessage,
  ServiceBusReceivedMessage,
  SubscriptionProperties,
  TopicProperties,
} from '@azure/service-bus';
import { must } from '../../test/support/must';
import { parseArgs, UsageError } from './args';
import { Clients, main } from './cli';
import { credentialsFromEnv, CredentialsError, fullyQualified } from './credentials';
import { DlqReceiver, MessagingClient, peekDeadLetters, replayDeadLetters, TopicSender } from './dlq';
import { AdminClient, buildPlan, DEFAULT_PLAN_OPTIONS, isoDurationSeconds, provision } from './provision';

/** An in-memory Service Bus namespace's management plane, recording every call. */
class FakeAdmin implements AdminClient {
  topics = new Map<string, Record<string, unknown>>();
  subscriptions = new Map<string, Record<string, unknown>>();
  calls: string[] = [];

  async topicExists(name: string) {
    this.calls.push(`topicExists ${name}`);
    return this.topics.has(name);
  }
  async createTopic(name: string, options?: object) {
    this.calls.push(`createTopic ${name}`);
    if (this.topics.has(name)) throw new Error(`MessagingEntityAlreadyExists: ${name}`);
    this.topics.set(name, { name, ...options });
  }
  async getTopic(name: string) {
    this.calls.push(`getTopic ${name}`);
    const topic = this.topics.get(name);
    if (!topic) throw new Error(`MessagingEntityNotFound: ${name}`);
    return { ...topic } as unknown as TopicProperties;
  }
  async updateTopic(topic: TopicProperties) {
    this.calls.push(`updateTopic ${topic.name}`);
    this.topics.set(topic.name, { ...topic });
  }
  async subscriptionExists(topic: string, sub: string) {
    this.calls.push(`subscriptionExists ${topic}/${sub}`);
    return this.subscriptions.has(`${topic}/${sub}`);
  }
  async createSubscription(topic: string, sub: string, options?: object) {
    this.calls.push(`createSubscription ${topic}/${sub}`);
    if (!this.topics.has(topic)) throw new Error(`MessagingEntityNotFound: ${topic}`);
    if (this.subscriptions.has(`${topic}/${sub}`)) throw new Error(`MessagingEntityAlreadyExists: ${topic}/${sub}`);
    this.subscriptions.set(`${topic}/${sub}`, { topicName: topic, subscriptionName: sub, ...options });
  }
  async getSubscription(topic: string, sub: string) {
    this.calls.push(`getSubscription ${topic}/${sub}`);
    const subscription = this.subscriptions.get(`${topic}/${sub}`);
    if (!subscription) throw new Error(`MessagingEntityNotFound: ${topic}/${sub}`);
    return { ...subscription } as unknown as SubscriptionProperties;
  }
  async updateSubscription(s: SubscriptionProperties) {
    this.calls.push(`updateSubscription ${s.topicName}/${s.subscriptionName}`);
    this.subscriptions.set(`${s.topicName}/${s.subscriptionName}`, { ...s });
  }
  writes() {
    return this.calls.filter((c) => /^(create|update)/.test(c));
  }
  /** A subscription as stored, by `topic/subscription`, without recording a call. */
  subscription(path: string) {
    return must(this.subscriptions.get(path), `subscription ${path}`);
  }
}

const received = (n: number, extra: Partial<ServiceBusReceivedMessage> = {}): ServiceBusReceivedMessage =>
  ({
    body: Buffer.from(JSON.stringify({ specversion: '1.0', id: `evt-${n}`, type: 'product.created', data: { id: n } })),
    messageId: `evt-${n}`,
    contentType: 'application/cloudevents+json',
    sequenceNumber: { toString: () => String(n) },
    enqueuedTimeUtc: new Date('2025-01-01T00:00:00Z'),
    deliveryCount: 10,
    deadLetterReason: 'MaxDeliveryCountExceeded',
    deadLetterErrorDescription: 'Message could not be consumed after 10 delivery attempts.',
    applicationProperties: { traceparent: '00-abc-def-01' },
    ...extra,
  }) as unknown as ServiceBusReceivedMessage;

/** A dead-letter queue with peek (non-destructive, continuing) and peek-lock receive. */
class FakeDlq implements MessagingClient {
  queue: ServiceBusReceivedMessage[] = [];
  sent: { topic: string; message: ServiceBusMessage }[] = [];
  completed: string[] = [];
  abandoned: string[] = [];
  closed = 0;
  failSendFor = new Set<string>();
  receivers: { topic: string; subscription: string; options: object }[] = [];

  createReceiver(
    topic: string,
    subscription: string,
    options: { subQueueType: 'deadLetter'; receiveMode: 'peekLock' },
  ): DlqReceiver {
    this.receivers.push({ topic, subscription, options });
    let peeked = 0;
    const locked = new Set<ServiceBusReceivedMessage>();
    return {
      peekMessages: async (max) => {
        const batch = this.queue.slice(peeked, peeked + max);
        peeked += batch.length;
        return batch;
      },
      receiveMessages: async (max) => {
        const batch = this.queue.filter((m) => !locked.has(m)).slice(0, max);
        batch.forEach((m) => locked.add(m));
        return batch;
      },
      completeMessage: async (m) => {
        this.completed.push(String(m.messageId));
        this.queue = this.queue.filter((q) => q !== m);
      },
      abandonMessage: async (m) => {
        this.abandoned.push(String(m.messageId));
        locked.delete(m);
      },
      close: async () => void this.closed++,
    };
  }
  createSender(topic: string): TopicSender {
    return {
      sendMessages: async (message) => {
        if (this.failSendFor.has(String(message.messageId))) throw new Error('ServiceBusError: send failed');
        this.sent.push({ topic, message });
      },
      close: async () => void this.closed++,
    };
  }
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, deps: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

const fakeClients = (admin: AdminClient, messaging: MessagingClient): Clients => ({
  admin: () => admin,
  messaging: () => messaging,
  close: async () => undefined,
});

describe('asb argument parsing', () => {
  it('defaults to the topics and subscription the manifests use', () => {
    const a = parseArgs(['provision']);
    expect(a.command).toBe('provision');
    expect(a.plan).toEqual({
      topic: 'products',
      deadLetterTopic: 'products-deadletter',
      subscription: 'audit',
      maxDeliveryCount: 100,
      lockDuration: 'PT1M',
      messageTimeToLive: 'P14D',
    });
  });

  it('takes options as "--name value" and "--name=value"', () => {
    const a = parseArgs([
      'provision',
      '--topic',
      'orders',
      '--subscription=billing',
      '--max-delivery-count',
      '5',
      '--lock-duration=PT2M',
      '--dry-run',
    ]);
    expect(a.plan).toMatchObject({
      topic: 'orders',
      deadLetterTopic: 'orders-deadletter',
      subscription: 'billing',
      maxDeliveryCount: 5,
      lockDuration: 'PT2M',
    });
    expect(a.dryRun).toBe(true);
    expect(parseArgs(['dlq:peek', '--max', '7', '--json'])).toMatchObject({
      command: 'dlq:peek',
      max: 7,
      json: true,
      topic: 'products',
      subscription: 'audit',
    });
    expect(parseArgs(['dlq:replay', '--topic', 'products-deadletter'])).toMatchObject({
      command: 'dlq:replay',
      topic: 'products-deadletter',
      max: 100,
      dryRun: false,
    });
  });

  it.each([
    [['nuke'], /unknown command "nuke"/],
    [['provision', '--force'], /unknown option --force/],
    [['provision', '--max', '5'], /--max does not apply to provision/],
    [['dlq:peek', '--max'], /--max needs a value/],
    [['dlq:peek', '--max', '--json'], /--max needs a value/],
    [['dlq:peek', '--max', '0'], /--max must be an integer from 1/],
    [['dlq:peek', '--max', 'ten'], /--max must be an integer/],
    [['provision', '--lock-duration', '60s'], /ISO 8601 duration/],
    [['provision', '--lock-duration', 'PT10M'], /at most 300 seconds/],
    [['provision', '--topic', 'a b'], /not a Service Bus entity name/],
    [['provision', '--topic', 'x', '--topic', 'y'], /given twice/],
    [['provision', '--dry-run=yes'], /takes no value/],
    [['provision', '--deadletter-topic', 'products'], /must differ/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });

  it('treats no command, help and --help as help', () => {
    expect(parseArgs([]).command).toBe('help');
    expect(parseArgs(['help']).command).toBe('help');
    expect(parseArgs(['dlq:peek', '--help']).command).toBe('help');
  });
});

describe('asb credentials', () => {
  const cs = 'Endpoint=sb://sb-portable-dapr.servicebus.windows.net/;SharedAccessKeyName=ops;SharedAccessKey=abc=';

  it('uses the connection string when set, else the namespace with Entra ID', () => {
    expect(credentialsFromEnv({ SERVICEBUS_CONNECTION_STRING: cs })).toEqual({
      kind: 'connection-string',
      connectionString: cs,
      namespace: 'sb-portable-dapr.servicebus.windows.net',
    });
    expect(credentialsFromEnv({ SERVICEBUS_NAMESPACE: 'sb-portable-dapr' })).toEqual({
      kind: 'entra',
      fullyQualifiedNamespace: 'sb-portable-dapr.servicebus.windows.net',
    });
    expect(credentialsFromEnv({ SERVICEBUS_NAMESPACE: 'sb-portable-dapr.servicebus.windows.net' })).toEqual({
      kind: 'entra',
      fullyQualifiedNamespace: 'sb-portable-dapr.servicebus.windows.net',
    });
    expect(fullyQualified('sb://sb-portable-dapr.servicebus.windows.net/')).toBe(
      'sb-portable-dapr.servicebus.windows.net',
    );
  });

  it('explains what to set when nothing is set', () => {
    expect(() => credentialsFromEnv({})).toThrow(CredentialsError);
    expect(() => credentialsFromEnv({ SERVICEBUS_CONNECTION_STRING: '  ', SERVICEBUS_NAMESPACE: '' })).toThrow(
      /SERVICEBUS_CONNECTION_STRING[\s\S]*SERVICEBUS_NAMESPACE[\s\S]*DefaultAzureCredential/,
    );
  });

  it.each([
    ['Server=tcp:sql.database.windows.net;Password=x', /no Endpoint=sb:\/\//],
    ['Endpoint=sb://ns.servicebus.windows.net/', /neither SharedAccessKeyName/],
    [`${cs};EntityPath=products`, /scoped to one entity/],
  ])('rejects the connection string %s', (value, message) => {
    expect(() => credentialsFromEnv({ SERVICEBUS_CONNECTION_STRING: value })).toThrow(message);
  });

  it('rejects a namespace that is no namespace name', () => {
    expect(() => credentialsFromEnv({ SERVICEBUS_NAMESPACE: 'sb!' })).toThrow(/not a Service Bus namespace name/);
  });
});

describe('asb provision', () => {
  const plan = buildPlan(DEFAULT_PLAN_OPTIONS);

  it('creates both topics and the audit subscription on each, with the settings daprd relies on', async () => {
    const admin = new FakeAdmin();
    const actions = await provision(admin, plan);
    expect(actions).toEqual([
      { entity: 'topic products', action: 'created' },
      { entity: 'subscription products/audit', action: 'created' },
      { entity: 'topic products-deadletter', action: 'created' },
      { entity: 'subscription products-deadletter/audit', action: 'created' },
    ]);
    expect(admin.subscriptions.get('products/audit')).toMatchObject({
      lockDuration: 'PT1M',
      maxDeliveryCount: 100,
      deadLetteringOnMessageExpiration: true,
      defaultMessageTimeToLive: 'P14D',
    });
    expect(admin.topics.get('products-deadletter')).toMatchObject({
      defaultMessageTimeToLive: 'P14D',
      enableBatchedOperations: true,
    });
  });

  it('is idempotent: a second run writes nothing', async () => {
    const admin = new FakeAdmin();
    await provision(admin, plan);
    admin.calls = [];
    const actions = await provision(admin, plan);
    expect(actions.map((a) => a.action)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged']);
    expect(admin.writes()).toEqual([]);
  });

  it('compares durations by value, not spelling (the service may answer PT60S for PT1M)', async () => {
    const admin = new FakeAdmin();
    await provision(admin, plan);
    admin.subscription('products/audit').lockDuration = 'PT60S';
    admin.calls = [];
    await provision(admin, plan);
    expect(admin.writes()).toEqual([]);
  });

  it('updates settings that drifted, and only those entities', async () => {
    const admin = new FakeAdmin();
    await provision(admin, plan);
    admin.subscription('products/audit').maxDeliveryCount = 3;
    admin.calls = [];
    const actions = await provision(admin, plan);
    expect(actions[1]).toEqual({
      entity: 'subscription products/audit',
      action: 'updated',
      changes: ['maxDeliveryCount: 3 -> 100'],
    });
    expect(admin.writes()).toEqual(['updateSubscription products/audit']);
    expect(admin.subscription('products/audit').maxDeliveryCount).toBe(100);
  });

  it('creates only what is missing when the topic exists without the subscription', async () => {
    const admin = new FakeAdmin();
    await admin.createTopic('products', must(buildPlan(DEFAULT_PLAN_OPTIONS)[0], 'the topic of the plan').settings);
    admin.calls = [];
    await provision(admin, plan);
    expect(admin.writes()).toEqual([
      'createSubscription products/audit',
      'createTopic products-deadletter',
      'createSubscription products-deadletter/audit',
    ]);
  });

  it('changes nothing in a dry run', async () => {
    const admin = new FakeAdmin();
    const actions = await provision(admin, plan, { dryRun: true });
    expect(actions.map((a) => a.action)).toEqual(['would create', 'would create', 'would create', 'would create']);
    expect(admin.writes()).toEqual([]);
  });

  it('parses ISO 8601 durations', () => {
    expect(isoDurationSeconds('PT1M')).toBe(60);
    expect(isoDurationSeconds('P14D')).toBe(14 * 86_400);
    expect(isoDurationSeconds('P1DT2H3M4.5S')).toBe(86_400 + 7_200 + 180 + 4.5);
    expect(() => isoDurationSeconds('60s')).toThrow(/ISO 8601/);
    expect(() => isoDurationSeconds('PT')).toThrow(/ISO 8601/);
  });
});

describe('asb dead-letter queue', () => {
  it('peeks the dead-letter sub-queue of the subscription without removing anything', async () => {
    const dlq = new FakeDlq();
    dlq.queue = [1, 2, 3].map((n) => received(n));
    const found = await peekDeadLetters(dlq, 'products', 'audit', 2);
    expect(found).toHaveLength(2);
    expect(found[0]).toMatchObject({
      messageId: 'evt-1',
      sequenceNumber: '1',
      deadLetterReason: 'MaxDeliveryCountExceeded',
      deliveryCount: 10,
    });
    expect(found[0]?.body).toContain('"id":"evt-1"');
    expect(dlq.receivers).toEqual([
      { topic: 'products', subscription: 'audit', options: { subQueueType: 'deadLetter', receiveMode: 'peekLock' } },
    ]);
    expect(dlq.queue).toHaveLength(3);
    expect(dlq.closed).toBe(1);
  });

  it('replays: resends each message to the topic with its body and id, then completes it', async () => {
    const dlq = new FakeDlq();
    dlq.queue = [1, 2].map((n) => received(n));
    const result = await replayDeadLetters(dlq, 'products', 'audit', 10);
    expect(result).toEqual({ replayed: 2, failed: [] });
    expect(dlq.sent.map((s) => [s.topic, s.message.messageId])).toEqual([
      ['products', 'evt-1'],
      ['products', 'evt-2'],
    ]);
    const first = must(dlq.sent[0], 'a message sent').message;
    expect(Buffer.isBuffer(first.body)).toBe(true);
    expect(first.contentType).toBe('application/cloudevents+json');
    expect(first.applicationProperties).toMatchObject({
      traceparent: '00-abc-def-01',
      'x-replayed-from': 'deadletter',
      'x-deadletter-reason': 'MaxDeliveryCountExceeded',
    });
    expect(dlq.completed).toEqual(['evt-1', 'evt-2']);
    expect(dlq.queue).toHaveLength(0);
  });

  it('leaves a message whose send failed in the dead-letter queue and stops', async () => {
    const dlq = new FakeDlq();
    dlq.queue = [1, 2, 3].map((n) => received(n));
    dlq.failSendFor.add('evt-2');
    const result = await replayDeadLetters(dlq, 'products', 'audit', 10);
    expect(result.replayed).toBe(2);
    expect(result.failed).toEqual([{ messageId: 'evt-2', error: 'ServiceBusError: send failed' }]);
    expect(dlq.abandoned).toEqual(['evt-2']);
    expect(dlq.queue.map((m) => m.messageId)).toEqual(['evt-2']);
  });

  it('replays at most --max messages', async () => {
    const dlq = new FakeDlq();
    dlq.queue = [1, 2, 3, 4].map((n) => received(n));
    expect((await replayDeadLetters(dlq, 'products', 'audit', 3)).replayed).toBe(3);
    expect(dlq.queue).toHaveLength(1);
  });
});

describe('asb command line', () => {
  it('fails with a clear message, before connecting, when no credentials are set', async () => {
    const c = capture();
    const connect = jest.fn();
    const code = await main(['provision'], { ...c.deps, env: {}, connect });
    expect(code).toBe(2);
    expect(connect).not.toHaveBeenCalled();
    expect(c.err.join('\n')).toMatch(
      /No Service Bus credentials[\s\S]*SERVICEBUS_CONNECTION_STRING[\s\S]*SERVICEBUS_NAMESPACE/,
    );
  });

  it('prints usage for a bad command line, with exit code 2', async () => {
    const c = capture();
    expect(await main(['dlq:peek', '--bogus'], { ...c.deps, env: {} })).toBe(2);
    expect(c.err[0]).toBe('error: unknown option --bogus');
    expect(c.err.join('\n')).toContain('usage: npm run asb');
  });

  it('provisions through the injected admin client', async () => {
    const c = capture();
    const admin = new FakeAdmin();
    const code = await main(['provision'], {
      ...c.deps,
      env: { SERVICEBUS_NAMESPACE: 'sb-portable-dapr' },
      connect: async () => fakeClients(admin, new FakeDlq()),
    });
    expect(code).toBe(0);
    expect(admin.topics.size).toBe(2);
    expect(c.out.join('\n')).toMatch(/created\s+subscription products\/audit/);
    expect(c.err[0]).toContain('sb-portable-dapr.servicebus.windows.net (Microsoft Entra ID');
  });

  it('never prints the connection string', async () => {
    const c = capture();
    const secret = 'SharedAccessKey=TOPSECRETKEY=';
    await main(['dlq:peek'], {
      ...c.deps,
      env: {
        SERVICEBUS_CONNECTION_STRING: `Endpoint=sb://ns1234.servicebus.windows.net/;SharedAccessKeyName=ops;${secret}`,
      },
      connect: async () => fakeClients(new FakeAdmin(), new FakeDlq()),
    });
    expect([...c.out, ...c.err].join('\n')).not.toContain('TOPSECRETKEY');
  });

  it('peeks as text and as JSON', async () => {
    const dlq = new FakeDlq();
    dlq.queue = [received(7)];
    const text = capture();
    expect(
      await main(['dlq:peek'], {
        ...text.deps,
        env: { SERVICEBUS_NAMESPACE: 'sb-portable-dapr' },
        connect: async () => fakeClients(new FakeAdmin(), dlq),
      }),
    ).toBe(0);
    expect(text.out.join('\n')).toMatch(
      /1 message\(s\) in the dead-letter queue of products\/audit[\s\S]*id=evt-7[\s\S]*MaxDeliveryCountExceeded/,
    );
    const json = capture();
    await main(['dlq:peek', '--json'], {
      ...json.deps,
      env: { SERVICEBUS_NAMESPACE: 'sb-portable-dapr' },
      connect: async () => fakeClients(new FakeAdmin(), dlq),
    });
    expect(JSON.parse(json.out.join('\n'))).toMatchObject({
      topic: 'products',
      subscription: 'audit',
      messages: [{ messageId: 'evt-7' }],
    });
  });

  it('replays, and a dry run only reports', async () => {
    const dlq = new FakeDlq();
    dlq.queue = [received(1), received(2)];
    const env = { SERVICEBUS_NAMESPACE: 'sb-portable-dapr' };
    const dry = capture();
    expect(
      await main(['dlq:replay', '--dry-run'], {
        ...dry.deps,
        env,
        connect: async () => fakeClients(new FakeAdmin(), dlq),
      }),
    ).toBe(0);
    expect(dry.out[0]).toContain('would replay 2 message(s)');
    expect(dlq.sent).toHaveLength(0);
    const real = capture();
    expect(
      await main(['dlq:replay'], { ...real.deps, env, connect: async () => fakeClients(new FakeAdmin(), dlq) }),
    ).toBe(0);
    expect(dlq.sent).toHaveLength(2);
    expect(real.out.at(-1)).toBe('replayed 2 message(s) to topic products');
  });

  it('says which rights are missing when the service refuses', async () => {
    const admin = new FakeAdmin();
    admin.topicExists = async () => {
      throw new Error('Unauthorized access. Manage claim is required for this operation.');
    };
    const c = capture();
    expect(
      await main(['provision'], {
        ...c.deps,
        env: { SERVICEBUS_NAMESPACE: 'sb-portable-dapr' },
        connect: async () => fakeClients(admin, new FakeDlq()),
      }),
    ).toBe(1);
    expect(c.err.join('\n')).toMatch(/provision failed: Unauthorized[\s\S]*Manage rights/);
  });
});
