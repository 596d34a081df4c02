import type { DaprFacts } from './dapr-facts';
import {
  asArray,
  asObject,
  DeclaredSecret,
  idOf,
  isNamedResource,
  NamedResource,
  PodTemplate,
  podTemplatesOf,
  Problem,
  Resource,
  Rule,
  SourcedResource,
  str,
} from './model';

export interface ValidateOptions {
  /** What the pinned Dapr code declares (dapr-facts.ts). */
  facts: DaprFacts;
  /**
   * kubernetes: rendered manifests (namespaces, the operator resolves component secrets from Kubernetes
   * Secrets). self-hosted: resources for daprd --resources-path (secrets come from a local store).
   */
  mode: 'kubernetes' | 'self-hosted';
  /** Secrets that exist outside these documents (prerequisites.yaml, or the local store's keys). */
  declaredSecrets?: DeclaredSecret[];
  /** Dapr app ids that exist besides the Dapr-enabled workloads in the documents (dapr.yaml apps, external callers). */
  appIds?: string[];
  /** Report declared secrets nothing references (default: true in kubernetes mode). */
  reportUnusedSecrets?: boolean;
}

export interface DaprApp {
  appId: string;
  namespace?: string;
  pod: PodTemplate;
}

/**
 * The documents being validated, indexed for the rules, and where their problems go. Rules read it and
 * report; the secrets they reference are remembered for the rule that reports unused ones.
 */
export class Context {
  readonly problems: Problem[] = [];
  readonly docs: NamedResource[];
  readonly k8s: boolean;
  readonly usedSecrets = new Set<string>();
  private readonly sourceOf: Map<Resource, string | undefined>;
  private readonly declared = new Map<string, { keys?: Set<string> }>();

  constructor(
    readonly items: SourcedResource[],
    readonly options: ValidateOptions,
  ) {
    this.k8s = options.mode === 'kubernetes';
    this.sourceOf = new Map(items.map((i) => [i.resource, i.source]));
    this.docs = items.map((i) => i.resource).filter(isNamedResource);
    for (const s of options.declaredSecrets ?? [])
      this.declared.set(s.name, { keys: s.keys ? new Set(s.keys) : undefined });
    for (const s of this.ofKind('Secret'))
      this.declared.set(s.metadata.name, {
        keys: new Set([...Object.keys(asObject(s.data)), ...Object.keys(asObject(s.stringData))]),
      });
  }

  report(rule: Rule, r: Resource, message: string, path?: string): void {
    const source = this.sourceOf.get(r);
    this.problems.push({ rule, resource: idOf(r), message, ...(path ? { path } : {}), ...(source ? { source } : {}) });
  }

  ofKind(kind: string): NamedResource[] {
    return this.docs.filter((r) => r.kind === kind);
  }

  /** A resource by kind and name, in `namespace` on Kubernetes. */
  named(kind: string, name: string | undefined, namespace?: string): NamedResource | undefined {
    return this.docs.find(
      (r) =>
        r.kind === kind &&
        r.metadata?.name === name &&
        (!this.k8s || (r.metadata?.namespace ?? '') === (namespace ?? '')),
    );
  }

  /** Whether two resources share a namespace (always, outside Kubernetes). */
  together(a: Resource, b: Resource): boolean {
    return !this.k8s || a.metadata?.namespace === b.metadata?.namespace;
  }

  get components(): NamedResource[] {
    return this.docs.filter((r) => r.kind === 'Component' && r.apiVersion?.startsWith('dapr.io/'));
  }

  ofDaprKind(kind: string): NamedResource[] {
    return this.docs.filter((r) => r.kind === kind && r.apiVersion?.startsWith('dapr.io/'));
  }

  componentType(r: Resource): string {
    return str(asObject(r.spec).type) ?? '';
  }

  /** Whether `name` is a secret store a component may use: a declared one, or Kubernetes' own there. */
  isSecretStore(name: string): boolean {
    return this.secretStores.has(name) || (this.k8s && name === 'kubernetes');
  }

  /** Secret store components by name, with their type. */
  get secretStores(): Map<string, string> {
    return new Map(
      this.components
        .filter((c) => this.componentType(c).startsWith('secretstores.'))
        .map((c) => [c.metadata.name, this.componentType(c)]),
    );
  }

  get podTemplates(): PodTemplate[] {
    return this.docs.flatMap(podTemplatesOf);
  }

  /** Workloads the sidecar injector would give a sidecar: Dapr enabled, with an app id. */
  get daprApps(): DaprApp[] {
    return this.podTemplates.flatMap((pod) => {
      const a = pod.meta.annotations ?? {};
      return a['dapr.io/enabled'] === 'true' && a['dapr.io/app-id']
        ? [{ appId: a['dapr.io/app-id'], namespace: pod.owner.metadata?.namespace, pod }]
        : [];
    });
  }

  /** The app ids a scope or policy may name: the Dapr apps here and the ones declared elsewhere. */
  get appIds(): Set<string> {
    return new Set([...this.daprApps.map((a) => a.appId), ...(this.options.appIds ?? [])]);
  }

  /** The ServiceAccount a Dapr app's pods run as, when it is part of these documents. */
  serviceAccountOf(app: DaprApp): Resource | undefined {
    const name = str(app.pod.spec.serviceAccountName);
    return name ? this.named('ServiceAccount', name, app.namespace) : undefined;
  }

  referenceSecret(r: Resource, name: unknown, key: unknown, path: string, what: string): void {
    if (typeof name !== 'string' || !name) return this.report('secret-ref', r, `${what} names no Secret`, path);
    this.usedSecrets.add(name);
    const d = this.declared.get(name);
    if (!d)
      return this.report(
        'secret-ref',
        r,
        `${what} references Secret "${name}", which is neither in the manifests nor declared (prerequisites.yaml)`,
        path,
      );
    if (typeof key === 'string' && d.keys && !d.keys.has(key)) {
      this.report(
        'secret-ref',
        r,
        `${what} references key "${key}" of Secret "${name}", which declares only: ${[...d.keys].join(', ') || '(none)'}`,
        path,
      );
    }
  }

  referenceConfigMap(r: Resource, name: unknown, key: unknown, path: string): void {
    const cm = this.named('ConfigMap', String(name), r.metadata?.namespace);
    if (!cm)
      return this.report(
        'config-ref',
        r,
        `references ConfigMap "${String(name)}", which is not in the manifests`,
        path,
      );
    if (typeof key === 'string' && !(key in asObject(cm.data)))
      this.report(
        'config-ref',
        r,
        `references key "${key}" of ConfigMap "${String(name)}", which has no such key`,
        path,
      );
  }

  /** Scopes naming an app that does not exist. */
  checkScopes(r: Resource, hint: (name: string) => string | undefined): void {
    const ids = this.appIds;
    asArray(r.scopes).forEach((s, i) => {
      if (typeof s === 'string' && !ids.has(s)) {
        const h = hint(s);
        this.report(
          'scopes',
          r,
          `scope "${s}" names no Dapr app (known: ${[...ids].join(', ') || 'none'})${h ? `; did you mean ${h}?` : ''}`,
          `/scopes/${i}`,
        );
      }
    });
  }
}
