import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse, parseAllDocuments } from 'yaml';

/**
 * The offline reference data of ../shared/schemas (see its README.md): strict Kubernetes JSON Schemas,
 * the Dapr CRDs, and each Dapr component's declared metadata. Everything is loaded lazily and cached.
 */

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One metadata field a component type declares (components-contrib metadata.yaml). */
export interface MetadataField {
  name: string;
  required?: boolean;
  sensitive?: boolean;
  type?: string;
  allowedValues?: string[];
  deprecated?: boolean;
}

/** One way to authenticate: its fields are accepted, and the required ones are required when it is the one used. */
export interface AuthProfile {
  title: string;
  fields: MetadataField[];
}

/** What a component type accepts: common fields plus authentication profiles, one of which must be satisfied. */
export interface ComponentSpec {
  /** `<type>.<name>`, e.g. pubsub.azure.servicebus.topics, as in the metadata file. */
  type: string;
  version: string;
  file: string;
  fields: MetadataField[];
  profiles: AuthProfile[];
}

/**
 * Types registered under another name than their metadata file's (components-contrib registers the
 * PostgreSQL binding as both bindings.postgres and bindings.postgresql; the file says "postgres").
 */
const TYPE_ALIASES: Record<string, string> = { 'bindings.postgresql': 'bindings.postgres' };

/** Group of an apiVersion, as the Kubernetes schema folders name it ("v1" is the core group). */
export function groupOf(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: 'core', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

export interface SchemaValidation {
  ok: boolean;
  errors: { path: string; message: string }[];
}

function describeError(e: ErrorObject): { path: string; message: string } {
  const path = e.instancePath || '/';
  if (e.keyword === 'additionalProperties') {
    return { path, message: `unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"` };
  }
  if (e.keyword === 'enum') return { path, message: `${e.message}: ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}` };
  return { path, message: e.message ?? e.keyword };
}

/** ajv reports every branch of a oneOf; keep the messages that say something (and each once). */
function summarize(errors: ErrorObject[] | null | undefined): { path: string; message: string }[] {
  const seen = new Set<string>();
  const out: { path: string; message: string }[] = [];
  for (const e of errors ?? []) {
    if (e.keyword === 'oneOf' || e.keyword === 'anyOf') continue;
    const d = describeError(e);
    const key = `${d.path} ${d.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(d);
    }
  }
  return out;
}

/**
 * Turns a CRD's openAPIV3Schema into a strict JSON Schema: an object that lists its properties
 * admits no others (what the API server's pruning would silently drop is an error here), unless the
 * CRD keeps unknown fields (x-kubernetes-preserve-unknown-fields). x-kubernetes-* keys are dropped.
 */
export function crdToJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(crdToJsonSchema);
  if (!isObject(node)) return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('x-kubernetes-') || key === 'description' || key === 'nullable') continue;
    if (key === 'properties' && isObject(value)) {
      out.properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, crdToJsonSchema(v)]));
    } else if ((key === 'items' || key === 'additionalProperties' || key === 'not') && isObject(value)) {
      out[key] = crdToJsonSchema(value);
    } else if ((key === 'allOf' || key === 'anyOf' || key === 'oneOf') && Array.isArray(value)) {
      out[key] = value.map(crdToJsonSchema);
    } else {
      out[key] = value;
    }
  }
  if (node.nullable === true && typeof node.type === 'string') out.type = [node.type, 'null'];
  if (isObject(node.properties) && node.additionalProperties === undefined && node['x-kubernetes-preserve-unknown-fields'] !== true) {
    out.additionalProperties = false;
  }
  return out;
}

export class SchemaSet {
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction | null>();
  private crds?: Map<string, { served: boolean; schema: unknown }>;
  private components?: Map<string, ComponentSpec>;
  private builtinProfiles?: Record<string, AuthProfile[]>;

  constructor(readonly dir: string) {
    if (!existsSync(join(dir, 'kubernetes')) || !existsSync(join(dir, 'dapr')) || !existsSync(join(dir, 'dapr-component-metadata'))) {
      throw new Error(`${dir} does not hold the schemas (kubernetes/, dapr/, dapr-component-metadata/)`);
    }
    this.ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true });
    addFormats(this.ajv);
  }

  private kubernetesSchemaFile(apiVersion: string, kind: string): string {
    const { group, version } = groupOf(apiVersion);
    return join(this.dir, 'kubernetes', group, `${kind.toLowerCase()}_${version}.json`);
  }

  /** The Kubernetes ObjectMeta schema (strict), used for the metadata of Dapr resources too. */
  private objectMetaSchema(): unknown {
    const configMap = JSON.parse(readFileSync(this.kubernetesSchemaFile('v1', 'ConfigMap'), 'utf8')) as { properties: Json };
    return configMap.properties.metadata;
  }

  private loadCrds(): Map<string, { served: boolean; schema: unknown }> {
    if (this.crds) return this.crds;
    const crds = new Map<string, { served: boolean; schema: unknown }>();
    const dir = join(this.dir, 'dapr');
    for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))) {
      for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
        const crd = doc.toJS() as { kind?: string; spec?: { group: string; names: { kind: string }; versions: { name: string; served: boolean; schema?: { openAPIV3Schema: unknown } }[] } };
        if (crd?.kind !== 'CustomResourceDefinition' || !crd.spec) continue;
        for (const v of crd.spec.versions) {
          crds.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, { served: v.served, schema: v.schema?.openAPIV3Schema });
        }
      }
    }
    this.crds = crds;
    return crds;
  }

  /** Whether a schema exists for this apiVersion/kind: a built-in Kubernetes kind or a Dapr CRD. */
  knows(apiVersion: string, kind: string): 'kubernetes' | 'crd' | 'crd-not-served' | undefined {
    const crd = this.loadCrds().get(`${apiVersion}/${kind}`);
    if (crd) return crd.served ? 'crd' : 'crd-not-served';
    return existsSync(this.kubernetesSchemaFile(apiVersion, kind)) ? 'kubernetes' : undefined;
  }

  private validator(apiVersion: string, kind: string): ValidateFunction | null {
    const key = `${apiVersion}/${kind}`;
    if (this.compiled.has(key)) return this.compiled.get(key)!;
    let schema: unknown;
    const known = this.knows(apiVersion, kind);
    if (known === 'kubernetes') {
      schema = JSON.parse(readFileSync(this.kubernetesSchemaFile(apiVersion, kind), 'utf8'));
    } else if (known === 'crd') {
      const converted = crdToJsonSchema(this.loadCrds().get(key)!.schema) as Json;
      const properties = { ...(converted.properties as Json), metadata: this.objectMetaSchema() };
      schema = { ...converted, properties, required: [...new Set([...((converted.required as string[]) ?? []), 'apiVersion', 'kind', 'metadata'])] };
    }
    const fn = schema ? this.ajv.compile(schema as object) : null;
    this.compiled.set(key, fn);
    return fn;
  }

  validate(doc: { apiVersion: string; kind: string }): SchemaValidation | undefined {
    const fn = this.validator(doc.apiVersion, doc.kind);
    if (!fn) return undefined;
    const ok = fn(doc) as boolean;
    return { ok, errors: ok ? [] : summarize(fn.errors) };
  }

  private loadBuiltinProfiles(): Record<string, AuthProfile[]> {
    if (this.builtinProfiles) return this.builtinProfiles;
    const raw = parse(readFileSync(join(this.dir, 'dapr-component-metadata', 'builtin-authentication-profiles.yaml'), 'utf8')) as Record<
      string,
      { title: string; metadata?: MetadataField[] }[]
    >;
    this.builtinProfiles = Object.fromEntries(
      Object.entries(raw).map(([name, profiles]) => [name, profiles.map((p) => ({ title: p.title, fields: p.metadata ?? [] }))]),
    );
    return this.builtinProfiles;
  }

  private loadComponents(): Map<string, ComponentSpec> {
    if (this.components) return this.components;
    const components = new Map<string, ComponentSpec>();
    const dir = join(this.dir, 'dapr-component-metadata');
    const builtins = this.loadBuiltinProfiles();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.metadata.yaml'))) {
      const m = parse(readFileSync(join(dir, file), 'utf8')) as {
        type: string;
        name: string;
        version: string;
        metadata?: MetadataField[];
        authenticationProfiles?: { title: string; metadata?: MetadataField[] }[];
        builtinAuthenticationProfiles?: { name: string; metadata?: MetadataField[] }[];
      };
      const profiles: AuthProfile[] = (m.authenticationProfiles ?? []).map((p) => ({ title: p.title, fields: p.metadata ?? [] }));
      // A built-in profile reference expands to each profile of that family, plus the fields the
      // component adds to it (e.g. useAzureAD for PostgreSQL, namespaceName for Service Bus).
      for (const ref of m.builtinAuthenticationProfiles ?? []) {
        const family = builtins[ref.name];
        if (!family) throw new Error(`${file}: unknown built-in authentication profile "${ref.name}"`);
        for (const p of family) profiles.push({ title: p.title, fields: [...p.fields, ...(ref.metadata ?? [])] });
      }
      const type = `${m.type}.${m.name}`;
      components.set(`${type}@${m.version}`, { type, version: m.version, file, fields: m.metadata ?? [], profiles });
    }
    this.components = components;
    return components;
  }

  /** The declared metadata of a component type/version, or undefined when the schemas do not have it. */
  component(type: string, version: string): ComponentSpec | undefined {
    const all = this.loadComponents();
    return all.get(`${TYPE_ALIASES[type] ?? type}@${version}`);
  }

  /** Versions the schemas know for a type (to say "v2 exists" when v1 was asked). */
  componentVersions(type: string): string[] {
    const wanted = TYPE_ALIASES[type] ?? type;
    return [...this.loadComponents().values()].filter((c) => c.type === wanted).map((c) => c.version);
  }
}
