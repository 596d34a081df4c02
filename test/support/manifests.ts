/**
 * The rendered manifests (k8s/, components/) as the tests read them: each kind the tests look into, with
 * the fields they check, and a lookup by kind and name that returns that type. The YAML is trusted to
 * have this shape (the API server and tools/validate check it); a test that breaks a document on purpose
 * gives it a field or a value its type does not allow through `untyped`.
 */
import type { KeyRef, PodSpec } from './kube';

export type Metadata = {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
};

// A type, not an interface: each kind stays assignable to the validator's Resource (an index signature).
type Manifest<Kind extends string, Spec> = {
  apiVersion: string;
  kind: Kind;
  metadata: Metadata;
  spec: Spec;
  /** Dapr resources: the app ids that load them. */
  scopes?: string[];
};

export interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations: Record<string, string> };
  spec: PodSpec;
}

export type Deployment = Manifest<
  'Deployment',
  {
    replicas?: number;
    progressDeadlineSeconds?: number;
    selector: { matchLabels: Record<string, string> };
    template: PodTemplate;
  }
>;

export type Service = Manifest<
  'Service',
  { type?: string; selector: Record<string, string>; ports: { port: number; targetPort?: number | string }[] }
>;

export type PodDisruptionBudget = Manifest<
  'PodDisruptionBudget',
  { minAvailable?: number; selector: { matchLabels: Record<string, string> } }
>;

export type HorizontalPodAutoscaler = Manifest<
  'HorizontalPodAutoscaler',
  { scaleTargetRef: { apiVersion: string; kind: string; name: string } }
>;

export type ServiceAccount = Omit<Manifest<'ServiceAccount', never>, 'spec'>;

export type ConfigMap = Omit<Manifest<'ConfigMap', never>, 'spec'> & { data: Record<string, string> };

export interface MetadataEntry {
  name: string;
  value?: unknown;
  secretKeyRef?: KeyRef;
}

export type Component = Manifest<'Component', { type: string; version: string; metadata: MetadataEntry[] }> & {
  auth?: { secretStore: string };
};

export interface AccessPolicy {
  appId: string;
  namespace?: string;
  defaultAction?: string;
}

export type Configuration = Manifest<
  'Configuration',
  {
    api?: { allowed: { name: string; version?: string; protocol: string }[] };
    mtls?: unknown;
    tracing?: { samplingRate?: string };
    accessControl?: { defaultAction: string; policies: AccessPolicy[] };
  }
>;

export type Subscription = Manifest<
  'Subscription',
  {
    topic: string;
    pubsubname: string;
    routes: { default?: string };
    deadLetterTopic?: string;
    bulkSubscribe?: { enabled: boolean; maxMessagesCount?: number };
  }
>;

export interface RetryPolicy {
  policy: string;
  duration?: string;
  maxInterval?: string;
  maxRetries?: number;
}

/** The policies a resiliency target uses, by direction. */
export interface ResiliencyTarget {
  inbound?: { retry?: string };
  outbound?: { retry?: string };
}

export type Resiliency = Manifest<
  'Resiliency',
  {
    policies: { retries: Record<string, RetryPolicy> };
    targets: { components: Record<string, ResiliencyTarget> };
  }
>;

/** The kinds the tests read, by name. */
export interface Kinds {
  Deployment: Deployment;
  Service: Service;
  PodDisruptionBudget: PodDisruptionBudget;
  HorizontalPodAutoscaler: HorizontalPodAutoscaler;
  ServiceAccount: ServiceAccount;
  ConfigMap: ConfigMap;
  Component: Component;
  Configuration: Configuration;
  Subscription: Subscription;
  Resiliency: Resiliency;
}

/** Rendered documents: the validator's Resources, or the tests' KubeObjects (test/support/kube.ts). */
type Docs = readonly { kind?: string }[];

/** Every resource of `kind` among `docs`. */
export const ofKind = <K extends keyof Kinds>(docs: Docs, kind: K): Kinds[K][] =>
  docs.filter((d): d is Kinds[K] => d.kind === kind);

/**
 * The resource of `kind` named `name` among `docs`; kustomize's generated ConfigMaps also by the name
 * before their hash (`catalog-env` finds `catalog-env-<hash>`). Throws when there is none.
 */
export function resourceOf<K extends keyof Kinds>(docs: Docs, kind: K, name: string): Kinds[K] {
  const found = ofKind(docs, kind).find(
    (d) => d.metadata.name === name || (kind === 'ConfigMap' && d.metadata.name.startsWith(`${name}-`)),
  );
  if (!found) throw new Error(`no ${kind}/${name} among the ${docs.length} documents`);
  return found;
}

/**
 * An object as a plain record, to give it a field or a value its type does not allow: the mistakes the
 * tests make on purpose (a misspelled field, a number as text).
 */
export const untyped = (o: object) => o as Record<string, unknown>;
