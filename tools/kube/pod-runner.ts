/**
 * Runs the container of a Pod stored in the test API server as a local process, the way a kubelet would
 * start it, as far as the Dapr control plane pods need (./manifests/control-plane-pods.yaml): the
 * container's command (mapped to a local binary) and args; its env (values, and fields of the pod); its
 * volumes (configMap, secret, projected ServiceAccount tokens bound to the pod, downward API, the
 * ServiceAccount volume the API server adds, emptyDir) at their mount paths; the pod's hostAliases in
 * /etc/hosts; the in-cluster address of the API server; a non-root user. Anything else is refused rather
 * than half done. A kubelet refreshes projected tokens; nothing does here, so they are made to last for
 * the longest a test run takes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import type { ControlPlane } from './control-plane';
import type { ManagedProcess } from '../stack/process';

/** The nonroot user of the distroless base image of Dapr's control plane images (runAsNonRoot, no runAsUser in the chart). */
const IMAGE_USER = 65532;
const TOKEN_LIFETIME = '2h';

interface KeyToPath {
  key: string;
  path: string;
}

interface Volume {
  name: string;
  configMap?: { name: string; items?: KeyToPath[] };
  secret?: { secretName: string; items?: KeyToPath[] };
  emptyDir?: object;
  projected?: { sources: ProjectedSource[] };
}

interface ProjectedSource {
  serviceAccountToken?: { path: string; audience?: string; expirationSeconds?: number };
  configMap?: { name: string; items?: KeyToPath[] };
  secret?: { name: string; items?: KeyToPath[] };
  downwardAPI?: { items: { path: string; fieldRef?: { fieldPath: string } }[] };
}

interface Container {
  name: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
  securityContext?: { runAsUser?: number };
}

export interface Pod {
  metadata: { name: string; namespace: string; uid: string };
  spec: {
    serviceAccountName: string;
    containers: Container[];
    volumes?: Volume[];
    hostAliases?: { ip: string; hostnames: string[] }[];
    securityContext?: { runAsUser?: number };
  };
}

/** The pod fields a container can be given (env valueFrom.fieldRef, downward API). */
function fieldOf(pod: Pod, fieldPath: string): string {
  const fields: Record<string, string> = {
    'metadata.name': pod.metadata.name,
    'metadata.namespace': pod.metadata.namespace,
    'metadata.uid': pod.metadata.uid,
    'spec.serviceAccountName': pod.spec.serviceAccountName,
  };
  const value = fields[fieldPath];
  if (value === undefined)
    throw new Error(`pod ${pod.metadata.name}: field ${fieldPath} is not supported by the pod runner`);
  return value;
}

/** Writes the files of one volume into `dir`, the folder standing for its mount path. */
class VolumeWriter {
  constructor(
    private readonly cp: ControlPlane,
    private readonly pod: Pod,
  ) {}

  private write(dir: string, path: string, content: string | Buffer): void {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }

  private async objectData(kind: 'configmap' | 'secret', name: string): Promise<Record<string, Buffer>> {
    const o = JSON.parse(
      await this.cp.kubectlOk(['get', kind, name, '-n', this.pod.metadata.namespace, '-o', 'json']),
    ) as { data?: Record<string, string> };
    const decode = (v: string) => (kind === 'secret' ? Buffer.from(v, 'base64') : Buffer.from(v));
    return Object.fromEntries(Object.entries(o.data ?? {}).map(([k, v]) => [k, decode(v)]));
  }

  private async keys(dir: string, kind: 'configmap' | 'secret', name: string, items?: KeyToPath[]): Promise<void> {
    const data = await this.objectData(kind, name);
    for (const { key, path } of items ?? Object.keys(data).map((key) => ({ key, path: key }))) {
      if (!data[key]) throw new Error(`${kind} ${name} has no key ${key} for pod ${this.pod.metadata.name}`);
      this.write(dir, path, data[key]);
    }
  }

  /** A token of the pod's ServiceAccount bound to the pod, as the kubelet requests it (TokenRequest). */
  private async token(audience?: string): Promise<string> {
    const { name, namespace } = this.pod.metadata;
    const args = [
      'create',
      'token',
      this.pod.spec.serviceAccountName,
      '-n',
      namespace,
      '--bound-object-kind=Pod',
      `--bound-object-name=${name}`,
      `--duration=${TOKEN_LIFETIME}`,
    ];
    return (await this.cp.kubectlOk(audience ? [...args, `--audience=${audience}`] : args)).trim();
  }

  async volume(v: Volume, dir: string): Promise<void> {
    mkdirSync(dir, { recursive: true }); // the mount point exists even when the volume has no file
    if (v.configMap) return this.keys(dir, 'configmap', v.configMap.name, v.configMap.items);
    if (v.secret) return this.keys(dir, 'secret', v.secret.secretName, v.secret.items);
    if (!v.projected)
      throw new Error(`pod ${this.pod.metadata.name}: volume ${v.name} is of a kind the pod runner does not provide`);
    for (const source of v.projected.sources) {
      if (source.serviceAccountToken)
        this.write(dir, source.serviceAccountToken.path, await this.token(source.serviceAccountToken.audience));
      else if (source.configMap) await this.keys(dir, 'configmap', source.configMap.name, source.configMap.items);
      else if (source.secret) await this.keys(dir, 'secret', source.secret.name, source.secret.items);
      else if (source.downwardAPI)
        for (const item of source.downwardAPI.items)
          this.write(dir, item.path, fieldOf(this.pod, item.fieldRef!.fieldPath));
      else
        throw new Error(
          `pod ${this.pod.metadata.name}: a projected source of volume ${v.name} is of a kind the pod runner does not provide`,
        );
    }
  }
}

/** /etc/hosts as a kubelet writes it for a pod: localhost, the pod's own name, then its hostAliases. */
function hostsFile(pod: Pod): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    `127.0.0.1\t${pod.metadata.name}`,
    '# Entries added by HostAliases.',
  ];
  for (const alias of pod.spec.hostAliases ?? []) lines.push(`${alias.ip}\t${alias.hostnames.join('\t')}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Starts the (single) container of pod `namespace/name` as a process of the control plane. `binaries`
 * maps the container's command (e.g. /injector) to a local binary.
 */
export async function runPod(
  cp: ControlPlane,
  namespace: string,
  name: string,
  binaries: Record<string, string>,
): Promise<ManagedProcess> {
  const pod = JSON.parse(await cp.kubectlOk(['get', 'pod', name, '-n', namespace, '-o', 'json'])) as Pod;
  if (pod.spec.containers.length !== 1) throw new Error(`pod ${name}: the pod runner runs pods of one container`);
  const container = pod.spec.containers[0]!;
  const binary = binaries[basename(container.command?.[0] ?? '')];
  if (!binary) throw new Error(`pod ${name}: no local binary for the command ${JSON.stringify(container.command)}`);

  const root = join(cp.dir, 'pods', name);
  const varRun = join(root, 'var-run');
  mkdirSync(varRun, { recursive: true });
  const emptyDirs: string[] = [];
  const writer = new VolumeWriter(cp, pod);
  for (const mount of container.volumeMounts ?? []) {
    const volume = pod.spec.volumes?.find((v) => v.name === mount.name);
    if (!volume || mount.subPath)
      throw new Error(`pod ${name}: volume mount ${mount.name} is not supported by the pod runner`);
    if (volume.emptyDir) emptyDirs.push(mount.mountPath);
    else if (mount.mountPath.startsWith('/var/run/'))
      await writer.volume(volume, join(varRun, relative('/var/run', mount.mountPath)));
    else throw new Error(`pod ${name}: the pod runner only provides volumes under /var/run, not ${mount.mountPath}`);
  }
  const hosts = join(root, 'hosts');
  writeFileSync(hosts, hostsFile(pod));

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    // What in-cluster clients (client-go's rest.InClusterConfig) look for: the API server on loopback.
    KUBERNETES_SERVICE_HOST: '127.0.0.1',
    KUBERNETES_SERVICE_PORT: String(cp.ports.apiserver),
  };
  for (const e of container.env ?? []) env[e.name] = e.value ?? fieldOf(pod, e.valueFrom?.fieldRef?.fieldPath ?? '');
  const uid = container.securityContext?.runAsUser ?? pod.spec.securityContext?.runAsUser ?? IMAGE_USER;
  return cp.launch(
    name,
    { command: binary, args: container.args ?? [] },
    { env, isolated: { files: { varRun, hosts, emptyDirs }, uid } },
  );
}
