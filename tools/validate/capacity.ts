import type { Context } from './context';
import type { RuleFn } from './rules';
import { asArray, asObject, containersOf, idOf, Json, PodTemplate, Resource, str } from './model';

/** Sequelize's pool when DB_POOL_MAX is not set (common/src/config.ts). */
const DEFAULT_APP_POOL = 10;
/** Kubernetes' default rolling update surge. */
const DEFAULT_MAX_SURGE = '25%';

/** The value of an environment variable of a container: its own env, else a ConfigMap it takes whole. */
function envOf(ctx: Context, owner: Resource, container: Json, name: string): string | undefined {
  const own = asArray(container.env)
    .map(asObject)
    .find((e) => e.name === name);
  if (own) return str(own.value);
  for (const from of asArray(container.envFrom).map(asObject)) {
    const ref = str(asObject(from.configMapRef).name);
    const cm = ref ? ctx.named('ConfigMap', ref, owner.metadata?.namespace) : undefined;
    const value = str(asObject(cm?.data)[name]);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** How many pods of a workload can run at once: its autoscaler's maximum (or its replicas), plus the rollout's surge. */
function mostPods(ctx: Context, workload: Resource): { pods: number; how: string } {
  const spec = asObject(workload.spec);
  const hpa = ctx
    .ofKind('HorizontalPodAutoscaler')
    .find(
      (h) =>
        ctx.together(h, workload) &&
        asObject(asObject(h.spec).scaleTargetRef).kind === workload.kind &&
        asObject(asObject(h.spec).scaleTargetRef).name === workload.metadata?.name,
    );
  const steady = hpa ? Number(asObject(hpa.spec).maxReplicas) : Number(spec.replicas ?? 1);
  const surgeValue = asObject(asObject(spec.strategy).rollingUpdate).maxSurge ?? DEFAULT_MAX_SURGE;
  const surge =
    typeof surgeValue === 'string' && surgeValue.endsWith('%')
      ? Math.ceil((steady * Number(surgeValue.slice(0, -1))) / 100)
      : Number(surgeValue);
  return { pods: steady + surge, how: `${steady} ${hpa ? '(autoscaler maximum)' : 'replicas'} + ${surge} surge` };
}

/** The database connections one pod opens at most: its app's pool and the SQL bindings its sidecar loads. */
function connectionsPerPod(ctx: Context, pod: PodTemplate): { connections: number; how: string } | undefined {
  const app = containersOf(pod.spec).find(
    ({ path, c }) => path.startsWith('containers/') && envOf(ctx, pod.owner, c, 'DB_DIALECT'),
  );
  if (!app) return undefined;
  const pool = Number(envOf(ctx, pod.owner, app.c, 'DB_POOL_MAX') ?? DEFAULT_APP_POOL);
  const appId = pod.meta.annotations?.['dapr.io/app-id'];
  const bindings = ctx.components.filter(
    (c) =>
      /^bindings\.(postgres|mysql)/.test(ctx.componentType(c)) &&
      ctx.together(c, pod.owner) &&
      (!asArray(c.scopes).length || asArray(c.scopes).includes(appId)),
  );
  const bindingConns = bindings.map((b) => ({
    name: b.metadata.name,
    max: Number(
      asArray(asObject(b.spec).metadata)
        .map(asObject)
        .find((m) => m.name === 'maxConns')?.value ?? NaN,
    ),
  }));
  const unbounded = bindingConns.find((b) => Number.isNaN(b.max));
  if (unbounded) return { connections: NaN, how: `binding ${unbounded.name} sets no maxConns` };
  const sum = bindingConns.reduce((n, b) => n + b.max, 0);
  return {
    connections: pool + sum,
    how: `DB_POOL_MAX ${pool}${bindingConns.map((b) => ` + ${b.name} maxConns ${b.max}`).join('')}`,
  };
}

/**
 * Every pod the autoscalers and rollouts allow, with its app's pool and its sidecar's SQL bindings,
 * fits in the connections the database server accepts (DB_SERVER_CONNECTIONS of the settings
 * ConfigMap). A migration init container runs before its pod's app and with the same pool, so it adds
 * nothing. Past the limit the server refuses connections ("too many clients") exactly when load peaks.
 */
export const databaseConnections: RuleFn = (ctx) => {
  if (!ctx.k8s) return;
  const settings = ctx.ofKind('ConfigMap').find((cm) => asObject(cm.data).DB_SERVER_CONNECTIONS !== undefined);
  const pods = ctx.podTemplates
    .map((pod) => ({ pod, use: connectionsPerPod(ctx, pod) }))
    .filter((p): p is { pod: PodTemplate; use: { connections: number; how: string } } => p.use !== undefined);
  const [first] = pods;
  if (!first) return;
  if (!settings) {
    ctx.report(
      'database-connections',
      first.pod.owner,
      'no ConfigMap sets DB_SERVER_CONNECTIONS, the connections the database server accepts: the pools cannot be checked against it',
    );
    return;
  }
  const limit = Number(asObject(settings.data).DB_SERVER_CONNECTIONS);
  const lines = pods.map(({ pod, use }) => {
    const most = mostPods(ctx, pod.owner);
    return { owner: pod.owner, total: most.pods * use.connections, how: `${most.how} pods × (${use.how})` };
  });
  const bad = lines.find((l) => Number.isNaN(l.total));
  if (bad) return ctx.report('database-connections', bad.owner, `cannot bound its connections: ${bad.how}`);
  const total = lines.reduce((n, l) => n + l.total, 0);
  if (!(total <= limit))
    ctx.report(
      'database-connections',
      settings,
      `the pods may open ${total} database connections, more than the server's ${limit} (DB_SERVER_CONNECTIONS): ${lines
        .map((l) => `${idOf(l.owner)}: ${l.how} = ${l.total}`)
        .join('; ')}`,
    );
};
