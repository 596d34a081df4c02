import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { daprHome, GO_BUILD_MODULE } from '../dapr/versions';

/**
 * What the validator knows about Dapr, read from the Dapr code this project pins (tools/dapr-build, the
 * module the daprd build already downloads) instead of copied by hand:
 *   - each component type's declared metadata: components-contrib's `<type>/metadata.yaml` files;
 *   - the Microsoft Entra ID metadata several components accept through the "azuread" built-in
 *     authentication profile, and the pod annotations the sidecar injector reads, with the Go type of
 *     each: printed by tools/dapr-build/facts;
 *   - how daprd's retries of a component end under given Resiliency resources: computed by the same
 *     program from daprd's own policy code (retryHorizons).
 */

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

export interface DaprFacts {
  /** Pod annotation → the Go type the injector parses it into (bool, int32, *string, ...). */
  annotations: Map<string, string>;
  component(type: string, version: string): ComponentSpec | undefined;
  componentVersions(type: string): string[];
  retryHorizons(request: RetryHorizonRequest): RetryHorizons;
}

/**
 * Types registered under another name than their metadata file's (components-contrib registers the
 * PostgreSQL binding as both bindings.postgres and bindings.postgresql; the file says "postgres").
 */
const TYPE_ALIASES: Record<string, string> = { 'bindings.postgresql': 'bindings.postgres' };

const goIn = (args: string[]) =>
  execFileSync('go', args, {
    cwd: GO_BUILD_MODULE,
    encoding: 'utf8',
    env: { ...process.env, CGO_ENABLED: '0' },
    maxBuffer: 16 * 1024 * 1024,
  });

/** The folder of a module the build module requires, downloaded into the Go module cache if needed. */
function moduleDir(module: string): string {
  return (JSON.parse(goIn(['mod', 'download', '-json', module])) as { Dir: string }).Dir;
}

interface InjectedFacts {
  injectorAnnotations: { name: string; type: string }[];
  azureAuthMetadata: string[];
}

/** What one sidecar loads, for `retryHorizons`: its Resiliency resources and the components they may target. */
export interface RetryHorizonRequest {
  resiliencies: unknown[];
  /** category: daprd's resiliency name for the building block (Pubsub, Binding, Statestore, ...). */
  components: { name: string; category: 'Pubsub' | 'Binding' | 'Statestore' }[];
}

/** How daprd's retries of one component direction end, every attempt failing (tools/dapr-build/facts/retries.go). */
export interface RetryHorizon {
  /** False when no retry policy applies: the first failure is final. */
  retries: boolean;
  maxRetries?: number;
  /** A Go duration: how long the back-off lets failing attempts go on before it gives up. */
  stopsAfter?: string;
  /** A Go duration: the back-off had not given up after this long (simulated). */
  neverStopsWithin?: string;
}

export type RetryHorizons = Record<string, { inbound: RetryHorizon; outbound: RetryHorizon }>;

/**
 * tools/dapr-build/facts, built once per version of the pinned modules and of its own code (the key),
 * then run as often as needed.
 */
function factsBinary(): string {
  const sources = readdirSync(join(GO_BUILD_MODULE, 'facts')).filter((f) => f.endsWith('.go'));
  const hash = createHash('sha256').update(readFileSync(join(GO_BUILD_MODULE, 'go.sum')));
  for (const f of sources.sort()) hash.update(f).update(readFileSync(join(GO_BUILD_MODULE, 'facts', f)));
  const binary = join(daprHome().home, 'facts', `facts-${hash.digest('hex').slice(0, 16)}`);
  if (!existsSync(binary)) {
    mkdirSync(dirname(binary), { recursive: true });
    goIn(['build', '-o', `${binary}.tmp`, './facts']);
    renameSync(`${binary}.tmp`, binary);
  }
  return binary;
}

const runFacts = (args: string[], input?: string) =>
  execFileSync(factsBinary(), args, { encoding: 'utf8', input, maxBuffer: 16 * 1024 * 1024 });

let injected: InjectedFacts | undefined;
const codeFacts = (): InjectedFacts => (injected ??= JSON.parse(runFacts([])) as InjectedFacts);

const horizonCache = new Map<string, RetryHorizons>();

/** How daprd's retries of each component end for a sidecar that loads these resources (read from daprd's code). */
export function retryHorizons(request: RetryHorizonRequest): RetryHorizons {
  const input = JSON.stringify(request);
  let horizons = horizonCache.get(input);
  if (!horizons) {
    horizons = JSON.parse(runFacts(['retry-horizons'], input)) as RetryHorizons;
    horizonCache.set(input, horizons);
  }
  return horizons;
}

function metadataFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (entry === 'metadata.yaml') return [path];
    return statSync(path).isDirectory() && !entry.startsWith('.') ? metadataFiles(path) : [];
  });
}

interface MetadataFile {
  type: string;
  name: string;
  version: string;
  metadata?: MetadataField[];
  authenticationProfiles?: { title: string; metadata?: MetadataField[] }[];
  builtinAuthenticationProfiles?: { name: string; metadata?: MetadataField[] }[];
}

/** Every metadata file of components-contrib, by `<type>.<name>@<version>` (read, not yet interpreted). */
function indexMetadataFiles(contribDir: string): Map<string, { file: string; m: MetadataFile }> {
  const index = new Map<string, { file: string; m: MetadataFile }>();
  for (const file of metadataFiles(contribDir)) {
    const m = parse(readFileSync(file, 'utf8')) as MetadataFile | null;
    if (m?.type && m.name) index.set(`${m.type}.${m.name}@${m.version}`, { file, m });
  }
  return index;
}

/**
 * What one type accepts. A built-in profile reference adds the family's fields plus those the component
 * adds to it (e.g. useAzureAD for PostgreSQL, namespaceName for Service Bus). The "azuread" family's
 * fields are read from the code (facts); for the others (aws, gcp: no component here uses them) only
 * the fields the component adds are known.
 */
function componentSpec(file: string, m: MetadataFile, azureAuth: string[]): ComponentSpec {
  const families: Record<string, AuthProfile> = {
    azuread: { title: 'Microsoft Entra ID', fields: azureAuth.map((name) => ({ name })) },
  };
  const profiles: AuthProfile[] = (m.authenticationProfiles ?? []).map((p) => ({
    title: p.title,
    fields: p.metadata ?? [],
  }));
  for (const ref of m.builtinAuthenticationProfiles ?? []) {
    const family = families[ref.name] ?? { title: ref.name, fields: [] };
    profiles.push({ title: family.title, fields: [...family.fields, ...(ref.metadata ?? [])] });
  }
  return { type: `${m.type}.${m.name}`, version: m.version, file, fields: m.metadata ?? [], profiles };
}

let loaded: DaprFacts | undefined;

/** Loaded once per process: a `go` call or two the first time (seconds once the Go caches are warm). */
export function daprFacts(): DaprFacts {
  if (loaded) return loaded;
  const code = codeFacts();
  const files = indexMetadataFiles(moduleDir('github.com/dapr/components-contrib'));
  const key = (type: string, version: string) => `${TYPE_ALIASES[type] ?? type}@${version}`;
  loaded = {
    annotations: new Map(code.injectorAnnotations.map((a) => [a.name, a.type])),
    component: (type, version) => {
      const found = files.get(key(type, version));
      return found && componentSpec(found.file, found.m, code.azureAuthMetadata);
    },
    componentVersions: (type) =>
      [...files.keys()]
        .filter((k) => k.startsWith(`${TYPE_ALIASES[type] ?? type}@`))
        .map((k) => k.slice(k.indexOf('@') + 1)),
    retryHorizons,
  };
  return loaded;
}
