/**
 * The container images of the single-node cluster, built with buildah (as root, in its own storage under
 * .cluster/buildah) and written as OCI archives to .cluster/images, which the node imports with
 * `ctr -n k8s.io images import`: no registry is involved.
 *   - the services, from the repository's unchanged Dockerfile (build argument SERVICE): localhost/{catalog,audit}:local;
 *   - Dapr as its Helm chart names it: ghcr.io/dapr/{daprd,sentry,operator,injector,placement,scheduler};
 *   - the pod sandbox and the cluster DNS: registry.k8s.io/pause, registry.k8s.io/coredns/coredns.
 * No registry's image can be pulled here, so the bases are built locally under their official names, the
 * way their official recipes build them (each recipe below says where it differs):
 * docker.io/library/debian:bookworm-slim, docker.io/library/node:<NODE_VERSION>-bookworm-slim and
 * gcr.io/distroless/static:nonroot. They stay in the buildah storage; only the cluster's images are written.
 * Every image has a stamp holding a hash of its inputs: a rerun with nothing changed only checks them.
 * The services' builds keep their intermediate layers, so `npm ci` reruns only when a manifest changes;
 * deleting .cluster/buildah frees the disk they take (and the next run builds everything again).
 *   npx tsx tools/cluster/images.ts [--allow-missing] [--inspect]      (as root; a cold build takes minutes)
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, posix } from 'node:path';
import { capture, elapsed, runStep, say } from '../dapr/progress';
import { withLock } from '../dapr/setup';
import { DAPR_RUNTIME_VERSION, PROJECT_ROOT } from '../dapr/versions';
import { clusterBinaries, COREDNS_VERSION, PAUSE_VERSION } from './versions';

const log = (message: string) => say(message, 'images');

export const APP_SERVICES = ['catalog', 'audit'] as const;
export type AppService = (typeof APP_SERVICES)[number];
/** The programs of the Dapr chart, one image each; the chart runs each as `command: ["/<program>"]`. */
export const DAPR_PROGRAMS = ['daprd', 'sentry', 'operator', 'injector', 'placement', 'scheduler'] as const;

export const DEBIAN_IMAGE = 'docker.io/library/debian:bookworm-slim';
/** What the Dapr images (and CoreDNS's) are built on. */
export const DISTROLESS_IMAGE = 'gcr.io/distroless/static:nonroot';
export const PAUSE_IMAGE = `registry.k8s.io/pause:${PAUSE_VERSION}`;
export const COREDNS_IMAGE = `registry.k8s.io/coredns/coredns:v${COREDNS_VERSION}`;
/** The names k8s/overlays/local runs (and docs/kubernetes.md builds with docker): a registry no one pulls from. */
export const appImage = (service: AppService) => `localhost/${service}:local`;
export const daprImage = (program: string) => `ghcr.io/dapr/${program}:${DAPR_RUNTIME_VERSION}`;
export const nodeImage = (version = nodeVersion()) => `docker.io/library/node:${version}-bookworm-slim`;

/** The services' recipe, one for both: the Dockerfile at the repository root. */
const appDockerfile = (root = PROJECT_ROOT) => join(root, 'Dockerfile');

/** The Node.js of the service images: the `ARG NODE_VERSION=` of the Dockerfile (CI reads it too). */
export function nodeVersion(root = PROJECT_ROOT): string {
  const version = /^ARG NODE_VERSION=(\S+)$/m.exec(readFileSync(appDockerfile(root), 'utf8'))?.[1];
  if (!version) throw new Error('the Dockerfile has no `ARG NODE_VERSION=` line');
  return version;
}

/** Where the images are built and written (git-ignored). */
export function imagesHome(root = PROJECT_ROOT) {
  const home = join(root, '.cluster');
  return {
    /** buildah's storage: layers, images and the intermediate layers `--layers` caches for the next build. */
    storage: join(home, 'buildah', 'root'),
    /** buildah's locks and mount counts (usually on tmpfs): no container outlives a run, so a folder will do. */
    runroot: join(home, 'buildah', 'runroot'),
    archives: join(home, 'images'),
    stamps: join(home, 'images', 'stamps'),
    log: join(home, 'images.log'),
    lock: join(home, 'images.lock'),
  };
}

type Paths = ReturnType<typeof imagesHome>;

export interface ImageArchive {
  /** The image's full name, as the archive records it and containerd lists it after the import. */
  name: string;
  /** The OCI archive for `ctr -n k8s.io images import`. */
  archive: string;
  imageId: string;
  /** False when its stamp showed it up to date. */
  built: boolean;
}

export interface EnsureImagesOptions {
  /** Build what can be built when binaries are missing (instead of failing), leaving those images out. */
  allowMissingBinaries?: boolean;
  root?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Running buildah

interface Ctx {
  paths: Paths;
  root: string;
  /** A temporary folder for build contexts, removed at the end. */
  tmp: string;
  env: NodeJS.ProcessEnv;
}

function buildahGlobalArgs(paths: Paths): string[] {
  return ['--root', paths.storage, '--runroot', paths.runroot, '--storage-driver', 'overlay'];
}

/** The environment of the tools: root's sbin folders on PATH (debootstrap, runc), overlay storage. */
function toolEnv(): NodeJS.ProcessEnv {
  const path = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'].filter(Boolean);
  return { ...process.env, PATH: [...new Set(path)].join(delimiter), STORAGE_DRIVER: 'overlay' };
}

function findTool(name: string, env: NodeJS.ProcessEnv): string | undefined {
  return (env.PATH ?? '')
    .split(delimiter)
    .map((dir) => join(dir, name))
    .find((file) => existsSync(file));
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end and returns its exit code and output, whatever the code. */
function execute(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function buildah(ctx: Pick<Ctx, 'paths' | 'env'>, args: string[]): Promise<string> {
  return capture('buildah', [...buildahGlobalArgs(ctx.paths), ...args], { env: ctx.env });
}

/** The ID of the image `name` in the storage, or undefined when there is none. */
async function imageId(ctx: Pick<Ctx, 'paths' | 'env'>, name: string): Promise<string | undefined> {
  const r = await execute(
    'buildah',
    [...buildahGlobalArgs(ctx.paths), 'inspect', '--type', 'image', '--format', '{{.FromImageID}}', name],
    ctx.env,
  );
  return r.code === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

interface Bud {
  name: string;
  containerfile: string;
  context: string;
  /** Bind mounts for the RUN steps (host:container:ro), never committed into the image. */
  volumes?: string[];
  /** Keep the intermediate layers for the next build (the services: `npm ci` only reruns when a manifest changes). */
  layers?: boolean;
  /** `--build-arg` values (the services: SERVICE). */
  buildArgs?: Record<string, string>;
}

/**
 * `buildah bud` with only the storage's images as bases (`--pull=never`: no registry is reachable), the
 * host's network for the RUN steps that fetch packages, and no container left behind, even on failure.
 */
function bud(ctx: Ctx, spec: Bud): Promise<void> {
  const args = ['bud', '--pull=never', '--force-rm', '--network', 'host', '--format', 'oci'];
  // --force-rm needs one of the two; --no-cache is buildah's default behaviour spelt out.
  args.push(spec.layers ? '--layers' : '--no-cache');
  for (const v of spec.volumes ?? []) args.push('--volume', v);
  for (const [name, value] of Object.entries(spec.buildArgs ?? {})) args.push('--build-arg', `${name}=${value}`);
  args.push('--file', spec.containerfile, '--tag', spec.name, spec.context);
  return runStep(`build ${spec.name}`, 'buildah', [...buildahGlobalArgs(ctx.paths), ...args], {
    cwd: ctx.root,
    env: ctx.env,
    logFile: ctx.paths.log,
    label: 'images',
  });
}

// ---------------------------------------------------------------------------------------------------------
// docker.io/library/debian:bookworm-slim

/**
 * debuerreotype's "slimify" (the slim variant): documentation, manuals and translations are deleted and
 * dpkg is told to skip them in later installs. `*` matches across folders (`find -path`, dpkg's filters).
 */
const SLIM_EXCLUDES = ['doc', 'info', 'linda', 'lintian/overrides', 'locale', 'man'].map((d) => `/usr/share/${d}/*`);
const SLIM_INCLUDES = [
  '/usr/share/doc/*/copyright',
  '/usr/share/locale/all_languages',
  '/usr/share/locale/currency/*',
  '/usr/share/locale/l10n/*',
  '/usr/share/locale/languages',
  '/usr/share/locale/locale.alias',
];

/**
 * debuerreotype-slimify's two passes, with `find` inside the root file system (chroot, as debuerreotype
 * does) so that absolute symbolic links resolve there: every file but the kept ones, then the empty
 * folders and dangling links that leaves, until none is left.
 */
async function slimify(rootfs: string, env: NodeJS.ProcessEnv): Promise<void> {
  // Packages (openjdk, ...) fail to install when these are missing: debuerreotype recreates them too.
  const manSections = readdirSync(join(rootfs, 'usr/share/man')).filter((d) => /^man\d$/.test(d));
  const keep = ['(', ...SLIM_INCLUDES.flatMap((p, i) => (i ? ['-o', '-path', p] : ['-path', p])), ')'];
  const find = (args: string[]) => capture('chroot', [rootfs, 'find', ...args], { env });
  for (const exclude of SLIM_EXCLUDES) {
    const dir = posix.dirname(exclude);
    if (!existsSync(join(rootfs, dir))) continue;
    await find([dir, ...'-depth -mindepth 1 -not ( -type d -o -type l ) -not'.split(' '), ...keep, '-delete']);
    const prune = [dir, ...'-depth -mindepth 1 ( -empty -o -xtype l ) -print -delete'.split(' ')];
    while ((await find(prune)).trim()); // until a pass finds nothing left to delete
  }
  for (const section of manSections) mkdirSync(join(rootfs, 'usr/share/man', section), { recursive: true });
  const dpkgConfig = [
    '# The "slim" variant of the Debian base image: files normally unneeded in containers are excluded.',
    ...SLIM_EXCLUDES.map((e) => `path-exclude ${e}`),
    ...SLIM_INCLUDES.map((i) => `path-include ${i}`),
  ];
  writeFileSync(join(rootfs, 'etc/dpkg/dpkg.cfg.d/docker'), `${dpkgConfig.join('\n')}\n`);
}

/** debuerreotype's minimizing configuration (comments shortened): what every official Debian image has. */
const MINIMIZING_CONFIG: Record<string, string> = {
  'usr/sbin/policy-rc.d': '#!/bin/sh\n# No service starts during an image build.\nexit 101\n',
  'etc/dpkg/dpkg.cfg.d/docker-apt-speedup': '# A build needs no sync() after each package.\nforce-unsafe-io\n',
  'etc/apt/apt.conf.d/docker-autoremove-suggests': 'Apt::AutoRemove::SuggestsImportant "false";\n',
  'etc/apt/apt.conf.d/docker-clean': [
    'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };',
    'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };',
    'Dir::Cache::pkgcache "";',
    'Dir::Cache::srcpkgcache "";',
    '',
  ].join('\n'),
  'etc/apt/apt.conf.d/docker-gzip-indexes': 'Acquire::GzipIndexes "true";\n',
  'etc/apt/apt.conf.d/docker-no-languages': 'Acquire::Languages "none";\n',
  // The image's sources are the official ones, whatever mirror built it.
  'etc/apt/sources.list.d/debian.sources': [
    'Types: deb',
    'URIs: http://deb.debian.org/debian',
    'Suites: bookworm bookworm-updates',
    'Components: main',
    'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
    '',
    'Types: deb',
    'URIs: http://deb.debian.org/debian-security',
    'Suites: bookworm-security',
    'Components: main',
    'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
    '',
  ].join('\n'),
};

/** What debuerreotype leaves out of the image: logs, caches and indexes of the build, machine identity. */
const BUILD_LEFTOVERS = [
  'etc/apt/sources.list',
  'etc/machine-id',
  'var/log/dpkg.log',
  'var/log/bootstrap.log',
  'var/log/alternatives.log',
  'var/log/apt/history.log',
  'var/log/apt/term.log',
  'var/cache/ldconfig/aux-cache',
];

/** By folder: debootstrap's package indexes, caches and the packages it installed. */
const APT_LEFTOVERS: [string, RegExp][] = [
  ['var/lib/apt/lists', /Packages|Release|^lock$/],
  ['var/cache/apt', /\.bin$/],
  ['var/cache/apt/archives', /\.deb$|^lock$/],
];

function minimize(rootfs: string): void {
  for (const [file, text] of Object.entries(MINIMIZING_CONFIG)) {
    mkdirSync(dirname(join(rootfs, file)), { recursive: true });
    writeFileSync(join(rootfs, file), text, { mode: file.includes('sbin') ? 0o755 : 0o644 });
  }
  for (const file of BUILD_LEFTOVERS) rmSync(join(rootfs, file), { force: true });
  for (const [dir, pattern] of APT_LEFTOVERS)
    for (const f of readdirSync(join(rootfs, dir))) if (pattern.test(f)) rmSync(join(rootfs, dir, f));
}

/** The first `bookworm` URI of a deb822 sources file (apt's format since Debian 12). */
function deb822Mirror(text: string): string | undefined {
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(stanza)?.[1]?.trim() ?? '';
    if (/^no$/i.test(field('Enabled')) || !field('Types').split(/\s+/).includes('deb')) continue;
    if (field('Suites').split(/\s+/).includes('bookworm')) return field('URIs').split(/\s+/)[0];
  }
  return undefined;
}

/**
 * The Debian mirror this machine's apt uses (the first `bookworm` entry of its sources), so debootstrap
 * goes where apt goes; the official mirror when none is configured.
 */
export function debianMirror(): string {
  const dir = '/etc/apt/sources.list.d';
  const lists = existsSync(dir) ? readdirSync(dir).filter((f) => /\.(sources|list)$/.test(f)) : [];
  for (const file of [...lists.map((f) => join(dir, f)), '/etc/apt/sources.list'].filter((f) => existsSync(f))) {
    const text = readFileSync(file, 'utf8');
    const uri = file.endsWith('.sources')
      ? deb822Mirror(text)
      : /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/m.exec(text)?.[1];
    if (uri) return uri;
  }
  return 'http://deb.debian.org/debian';
}

/** The official Dockerfile: the root file system's tarball on scratch. */
const DEBIAN_CONTAINERFILE = 'FROM scratch\nADD rootfs.tar /\nCMD ["bash"]\n';

/**
 * The official recipe, minus its reproducibility work: debootstrap's minbase of bookworm, debuerreotype's
 * minimizing configuration and slimify, the build's leftovers removed, `ADD` of the tarball onto scratch.
 * Differs: the packages are the mirror's current bookworm without the security and point-release updates
 * debuerreotype applies (`apt-get full-upgrade`), and timestamps are not clamped to the snapshot's epoch.
 */
async function buildDebian(ctx: Ctx): Promise<void> {
  const debootstrap = findTool('debootstrap', ctx.env);
  if (!debootstrap) throw new Error('debootstrap is not installed: apt-get install buildah debootstrap runc');
  const dir = join(ctx.tmp, 'debian');
  const rootfs = join(dir, 'rootfs');
  mkdirSync(dir, { recursive: true });
  const mirror = debianMirror();
  await runStep(
    `debootstrap --variant=minbase bookworm (${mirror})`,
    debootstrap,
    ['--variant=minbase', 'bookworm', rootfs, mirror],
    { cwd: dir, env: ctx.env, logFile: ctx.paths.log, label: 'images' },
  );
  minimize(rootfs);
  await slimify(rootfs, ctx.env);
  const exclude = ['./dev/*', './proc/*', './sys/*'].map((p) => `--exclude=${p}`);
  await capture('tar', ['--create', '--numeric-owner', ...exclude, '-f', join(dir, 'rootfs.tar'), '-C', rootfs, '.'], {
    env: ctx.env,
  });
  writeFileSync(join(dir, 'Containerfile'), DEBIAN_CONTAINERFILE);
  await bud(ctx, { name: DEBIAN_IMAGE, containerfile: join(dir, 'Containerfile'), context: dir });
}

// ---------------------------------------------------------------------------------------------------------
// docker.io/library/node:<NODE_VERSION>-bookworm-slim

/** A sources file for apt in RUN steps: the mirror that built the Debian image (mounted, never committed). */
function aptSourcesMount(dir: string): string {
  const file = join(dir, 'build.sources');
  writeFileSync(file, `Types: deb\nURIs: ${debianMirror()}\nSuites: bookworm\nComponents: main\n`);
  return `${file}:/etc/apt/sources.list.d/debian.sources:ro`;
}

const ARCHES: Partial<Record<string, { node: string; openssl: string }>> = {
  x64: { node: 'x64', openssl: 'linux-x86_64' },
  arm64: { node: 'arm64', openssl: 'linux-aarch64' },
};

/** `npm pack <spec>` unpacked into `dest` (the package's own folder, without the `package/` level). */
async function unpackNpmPackage(ctx: Ctx, spec: string, dest: string): Promise<void> {
  const out = await capture('npm', ['pack', spec, '--pack-destination', ctx.tmp, '--json'], {
    cwd: ctx.tmp,
    env: ctx.env,
    timeoutMs: 600_000,
  });
  const [{ filename }] = JSON.parse(out) as [{ filename: string }];
  mkdirSync(dest, { recursive: true });
  await capture('tar', ['-xzf', join(ctx.tmp, filename), '-C', dest, '--strip-components=1', '--no-same-owner']);
  rmSync(join(ctx.tmp, filename));
}

/** The npm a Node.js release ships: the last "upgrade npm to x.y.z" of its changelog, newest first. */
export function bundledNpmVersion(changelog: string): string | undefined {
  return /\*\*deps\*\*: (?:upgrade|update) npm to (\d+\.\d+\.\d+)/.exec(changelog)?.[1];
}

/**
 * /usr/local as the official image's `tar -xJf node-v<version>-linux-<arch>.tar.xz -C /usr/local
 * --strip-components=1` lays it out, from the npm registry instead of nodejs.org: the release's files
 * (package node-linux-<arch>) and the npm it bundles (package npm), with the unused OpenSSL headers removed
 * as the official recipe does.
 */
async function nodeUsrLocal(ctx: Ctx, version: string, dest: string): Promise<string> {
  const arch = ARCHES[process.arch];
  if (!arch) throw new Error(`no Node.js image recipe for the ${process.arch} architecture`);
  await unpackNpmPackage(ctx, `node-linux-${arch.node}@${version}`, dest);
  rmSync(join(dest, 'package.json'));
  const archs = join(dest, 'include/node/openssl/archs');
  for (const a of readdirSync(archs)) if (a !== arch.openssl) rmSync(join(archs, a), { recursive: true });
  const npm = bundledNpmVersion(readFileSync(join(dest, 'CHANGELOG.md'), 'utf8'));
  // Only the first release of a line may lack the line; Node.js 24 to 26 bundle npm 11.
  if (!npm) log(`Node.js ${version}'s changelog names no npm version: taking the newest npm 11`);
  await unpackNpmPackage(ctx, `npm@${npm ?? '11'}`, join(dest, 'lib/node_modules/npm'));
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(dest, 'bin/npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(dest, 'bin/npx'));
  return npm ?? '11';
}

/** What the official image's docker-entrypoint.sh does: options and non-commands run under node. */
const NODE_ENTRYPOINT = `#!/bin/sh
set -e
if [ "\${1#-}" != "$1" ] || [ -z "$(command -v "$1")" ] || { [ -f "$1" ] && ! [ -x "$1" ]; }; then
  set -- node "$@"
fi
exec "$@"
`;

/**
 * The official Dockerfile (docker-library's node, 26/bookworm-slim), its download replaced by the COPY
 * of the same files: the node user (1000:1000), the release in /usr/local, libatomic1 (the one library
 * node needs beyond the base), the nodejs link, the entrypoint, `CMD ["node"]`. Node.js 26 images have no
 * Yarn. Differs: two layers instead of one, and no checksum or signature check of the release (npm's
 * integrity check of the packages stands in).
 */
function nodeContainerfile(version: string): string {
  return `FROM ${DEBIAN_IMAGE}
RUN groupadd --gid 1000 node \\
  && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
ENV NODE_VERSION=${version}
COPY usr-local/ /usr/local/
RUN set -ex \\
  && apt-get update && apt-get install -y --no-install-recommends libatomic1 \\
  && rm -rf /var/lib/apt/lists/* \\
  && ln -s /usr/local/bin/node /usr/local/bin/nodejs \\
  && node --version \\
  && npm --version \\
  && rm -rf /tmp/*
COPY docker-entrypoint.sh /usr/local/bin/
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["node"]
`;
}

async function buildNode(ctx: Ctx): Promise<void> {
  const version = nodeVersion(ctx.root);
  const dir = join(ctx.tmp, 'node');
  mkdirSync(dir, { recursive: true });
  const npm = await nodeUsrLocal(ctx, version, join(dir, 'usr-local'));
  log(`Node.js ${version} with its npm ${npm}, from the npm registry`);
  writeFileSync(join(dir, 'docker-entrypoint.sh'), NODE_ENTRYPOINT, { mode: 0o755 });
  writeFileSync(join(dir, 'Containerfile'), nodeContainerfile(version));
  const volumes = [aptSourcesMount(dir)];
  await bud(ctx, { name: nodeImage(version), containerfile: join(dir, 'Containerfile'), context: dir, volumes });
}

// ---------------------------------------------------------------------------------------------------------
// gcr.io/distroless/static:nonroot, the Dapr images, pause and CoreDNS

const DISTROLESS_FILES: Record<string, string> = {
  'etc/passwd': [
    'root:x:0:0:root:/root:/sbin/nologin',
    'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin',
    'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin',
    '',
  ].join('\n'),
  'etc/group': ['root:x:0:', 'nobody:x:65534:', 'tty:x:5:', 'staff:x:50:', 'nonroot:x:65532:', ''].join('\n'),
  'etc/nsswitch.conf': 'hosts: files dns\n',
};

/**
 * What static Go programs need of an OS, as distroless's static image has it: Debian's CA certificates
 * (the ca-certificates package's bundle, not this machine's, which may trust an intercepting proxy), the
 * time zones, passwd and group with the nonroot user, a writable /tmp, and USER 65532. The Dapr images
 * and CoreDNS's are built on it, as their official Dockerfiles are. Differs: no /etc/os-release, no
 * licences of the packages, and built from Debian 12's packages (distroless static is Debian's too).
 */
function distrolessContainerfile(): string {
  return `FROM ${DEBIAN_IMAGE} AS debian
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \\
  && rm -rf /var/lib/apt/lists/* \\
  && mkdir -p /out/etc/ssl/certs /out/usr/share /out/home/nonroot \\
  && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ \\
  && cp -a /usr/share/zoneinfo /out/usr/share/ \\
  && mkdir -m 1777 /out/tmp \\
  && chown 65532:65532 /out/home/nonroot && chmod 700 /out/home/nonroot
FROM scratch
COPY --from=debian /out/ /
COPY etc/ /etc/
USER 65532:65532
WORKDIR /home/nonroot
`;
}

async function buildDistroless(ctx: Ctx): Promise<void> {
  const dir = join(ctx.tmp, 'distroless');
  for (const [file, text] of Object.entries(DISTROLESS_FILES)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  writeFileSync(join(dir, 'Containerfile'), distrolessContainerfile());
  const volumes = [aptSourcesMount(dir)];
  await bud(ctx, { name: DISTROLESS_IMAGE, containerfile: join(dir, 'Containerfile'), context: dir, volumes });
}

/** dapr/dapr's docker/Dockerfile: the program at the root of distroless static, as its nonroot user. */
const daprContainerfile = (program: string) => `FROM ${DISTROLESS_IMAGE}\nWORKDIR /\nCOPY ${program} /${program}\n`;

/** kubernetes' build/pause/Dockerfile: the static program on scratch, as user 65535. */
const PAUSE_CONTAINERFILE = 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n';

/**
 * CoreDNS's Dockerfile: distroless static with the CA certificates, the program at /coredns. Differs: the
 * user is numeric (65532, the official image says nonroot), so a pod with runAsNonRoot can verify it.
 */
const COREDNS_CONTAINERFILE = `FROM ${DISTROLESS_IMAGE}
COPY coredns /coredns
USER 65532:65532
EXPOSE 53 53/udp
ENTRYPOINT ["/coredns"]
`;

/** An image made of one binary: the binary's folder is the build context. */
function binaryImageBuild(name: string, binary: string, containerfile: string) {
  return async (ctx: Ctx) => {
    const file = join(ctx.tmp, `${fileName(name)}.Containerfile`);
    writeFileSync(file, containerfile);
    await bud(ctx, { name, containerfile: file, context: dirname(binary) });
  };
}

/** A binary as an input: rebuilt programs get a new size or time, reading 100 MB per rerun is not needed. */
function binaryInput(binary: string): string {
  const s = statSync(binary);
  return `${binary}:${s.size}:${s.mtimeMs}`;
}

// ---------------------------------------------------------------------------------------------------------
// The services: localhost/<service>:local from the Dockerfile, with the build argument SERVICE=<service>

/** The build context paths a Dockerfile copies (COPY without --from): what the image is made of. */
export function contextSources(dockerfile: string): string[] {
  return dockerfile
    .replace(/\\\r?\n/g, ' ')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((words) => /^COPY$/i.test(words[0] ?? '') && !words.some((w) => w.startsWith('--from=')))
    .flatMap((words) => words.slice(1, -1).filter((w) => !w.startsWith('--')));
}

/**
 * A digest of the files below `sources` that git tracks or would track (the context holds no ignored file
 * but .cluster/, which no COPY reads): their paths, modes and contents. Uncommitted edits count.
 */
async function contextDigest(root: string, sources: string[]): Promise<string> {
  const args = ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', ...sources];
  const listed = await capture('git', args, { cwd: root });
  const hash = createHash('sha256');
  for (const file of [...new Set(listed.split('\0').filter(Boolean))].sort()) {
    const path = join(root, file);
    if (!existsSync(path) || !statSync(path).isFile()) continue; // deleted in the work tree
    hash.update(`${file}\0${(statSync(path).mode & 0o777).toString(8)}\0`).update(readFileSync(path));
  }
  return hash.digest('hex');
}

/**
 * This machine's way to the npm registry, for the `npm ci` steps: the registry, CA file and proxies npm is
 * configured with, as a global npmrc mounted read-only with the CA file (at build time only: nothing of
 * it is committed into an image). None with npm's defaults. Credentials of a private registry are not passed.
 * A CA that the machine hands Node.js itself (NODE_EXTRA_CA_CERTS, which npm honours too) counts as the
 * CA file when npm names none: which global npmrc npm reads depends on the Node.js it runs on.
 */
async function npmMounts(ctx: Ctx, dir: string): Promise<string[]> {
  const config = JSON.parse(
    await capture('npm', ['config', 'list', '--json'], { cwd: ctx.root, env: ctx.env }),
  ) as Record<string, unknown>;
  const extraCa = ctx.env.NODE_EXTRA_CA_CERTS;
  if (typeof config.cafile !== 'string' && extraCa && existsSync(extraCa)) config.cafile = extraCa;
  const defaults: Record<string, unknown> = { registry: 'https://registry.npmjs.org/', 'strict-ssl': true };
  const keys = ['registry', 'cafile', 'proxy', 'https-proxy', 'noproxy', 'strict-ssl'];
  const lines = keys
    .map((k) => [k, Array.isArray(config[k]) ? (config[k] as string[]).filter(Boolean).join(',') : config[k]] as const)
    .filter(([k, v]) => v !== null && v !== undefined && v !== '' && v !== defaults[k])
    .map(([k, v]) => `${k}=${String(v)}`);
  if (lines.length === 0) return [];
  writeFileSync(join(dir, 'npmrc'), `${lines.join('\n')}\n`);
  const mounts = [`${join(dir, 'npmrc')}:/usr/local/etc/npmrc:ro`];
  const cafile = config.cafile;
  if (typeof cafile === 'string' && existsSync(cafile)) mounts.push(`${cafile}:${cafile}:ro`);
  return mounts;
}

async function buildApp(ctx: Ctx, service: AppService): Promise<void> {
  const dir = join(ctx.tmp, service);
  mkdirSync(dir, { recursive: true });
  await bud(ctx, {
    name: appImage(service),
    containerfile: appDockerfile(ctx.root),
    context: ctx.root,
    volumes: await npmMounts(ctx, dir),
    layers: true,
    buildArgs: appBuildArgs(service),
  });
}

const appBuildArgs = (service: AppService) => ({ SERVICE: service });

/** The Dockerfile's text with the build arguments' values in place of `$NAME` and `${NAME}`. */
function withBuildArgs(dockerfile: string, buildArgs: Record<string, string>): string {
  return dockerfile.replace(/\$(?:\{(\w+)\}|(\w+))/g, (ref, braced?: string, bare?: string) => {
    const name = braced ?? bare ?? '';
    return Object.hasOwn(buildArgs, name) ? (buildArgs[name] ?? '') : ref;
  });
}

async function appInputs(ctx: Ctx, service: AppService): Promise<unknown[]> {
  const dockerfile = readFileSync(appDockerfile(ctx.root), 'utf8');
  const buildArgs = appBuildArgs(service);
  return [
    dockerfile,
    buildArgs,
    readFileSync(join(ctx.root, '.dockerignore'), 'utf8'),
    await imageId(ctx, nodeImage(nodeVersion(ctx.root))),
    await contextDigest(ctx.root, contextSources(withBuildArgs(dockerfile, buildArgs))),
  ];
}

// ---------------------------------------------------------------------------------------------------------
// Recipes, stamps and archives

interface Recipe {
  name: string;
  /** Written as an OCI archive for the cluster; the bases stay in the buildah storage only. */
  exported: boolean;
  /** Binaries the image is made of (built by tools/cluster/build.ts). */
  binaries?: string[];
  /**
   * Everything the image is made of, base image IDs included: any change rebuilds it. For a base made by
   * code (no Containerfile), its RECIPE_REVISION stands for that code.
   */
  inputs: (ctx: Ctx) => Promise<unknown[]>;
  build: (ctx: Ctx) => Promise<void>;
}

/**
 * Bumped by hand when the code that makes a base changes (buildDebian, minimize and slimify; buildNode
 * and nodeUsrLocal): their source text cannot be the input, since it differs between the TypeScript
 * runners (tsx, jest) and would rebuild everything from scratch whenever the runner changes.
 */
const RECIPE_REVISION = { debian: 1, node: 1 };

/** In build order: each image after its base, so a base's new ID reaches the stamps of its images. */
function recipes(root: string): Recipe[] {
  const bins = clusterBinaries(root);
  const base = (name: string) => async (ctx: Ctx) => [await imageId(ctx, name)];
  const binary = (name: string, file: string, containerfile: string, from?: string): Recipe => ({
    name,
    exported: true,
    binaries: [file],
    inputs: async (ctx) => [containerfile, binaryInput(file), from && (await imageId(ctx, from))],
    build: binaryImageBuild(name, file, containerfile),
  });
  return [
    {
      name: DEBIAN_IMAGE,
      exported: false,
      inputs: () =>
        Promise.resolve([
          RECIPE_REVISION.debian,
          DEBIAN_CONTAINERFILE,
          MINIMIZING_CONFIG,
          BUILD_LEFTOVERS,
          APT_LEFTOVERS.map(String),
          SLIM_EXCLUDES,
          SLIM_INCLUDES,
        ]),
      build: buildDebian,
    },
    {
      name: nodeImage(nodeVersion(root)),
      exported: false,
      inputs: async (ctx) => [
        RECIPE_REVISION.node,
        nodeContainerfile(nodeVersion(ctx.root)),
        NODE_ENTRYPOINT,
        ...(await base(DEBIAN_IMAGE)(ctx)),
      ],
      build: buildNode,
    },
    ...APP_SERVICES.map((service) => ({
      name: appImage(service),
      exported: true,
      inputs: (ctx: Ctx) => appInputs(ctx, service),
      build: (ctx: Ctx) => buildApp(ctx, service),
    })),
    {
      name: DISTROLESS_IMAGE,
      exported: false,
      inputs: async (ctx) => [distrolessContainerfile(), DISTROLESS_FILES, ...(await base(DEBIAN_IMAGE)(ctx))],
      build: buildDistroless,
    },
    ...DAPR_PROGRAMS.map((p) => binary(daprImage(p), bins[p], daprContainerfile(p), DISTROLESS_IMAGE)),
    binary(PAUSE_IMAGE, bins.pause, PAUSE_CONTAINERFILE),
    binary(COREDNS_IMAGE, bins.coredns, COREDNS_CONTAINERFILE, DISTROLESS_IMAGE),
  ];
}

/** An image name as a file name: ghcr.io/dapr/daprd:1.18.3 -> ghcr.io_dapr_daprd_1.18.3. */
const fileName = (name: string) => name.replace(/[^A-Za-z0-9._-]+/g, '_');

interface Stamp {
  hash: string;
  imageId: string;
}

function readStamp(file: string): Stamp | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
}

/** `buildah push` into a temporary file first: an interrupted export never leaves a truncated archive. */
async function exportArchive(ctx: Ctx, name: string, archive: string): Promise<void> {
  const started = Date.now();
  const partial = `${archive}.partial`;
  rmSync(partial, { force: true });
  await buildah(ctx, ['push', '--quiet', name, `oci-archive:${partial}:${name}`]);
  renameSync(partial, archive);
  log(`${name}: written to ${archive} (${megabytes(statSync(archive).size)}, ${elapsed(started)})`);
}

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Builds `recipe`'s image unless its stamp matches its inputs and the storage still has that image. */
async function ensureImage(ctx: Ctx, recipe: Recipe): Promise<ImageArchive | undefined> {
  const hash = createHash('sha256')
    .update(JSON.stringify([recipe.name, ...(await recipe.inputs(ctx))]))
    .digest('hex');
  const stampFile = join(ctx.paths.stamps, `${fileName(recipe.name)}.json`);
  const stamp = readStamp(stampFile);
  const found = await imageId(ctx, recipe.name);
  const build = !found || stamp?.hash !== hash || stamp.imageId !== found;
  const id = build ? await buildImage(ctx, recipe, found) : found;
  const archive = join(ctx.paths.archives, `${fileName(recipe.name)}.tar`);
  if (recipe.exported && (build || !existsSync(archive))) await exportArchive(ctx, recipe.name, archive);
  writeFileSync(stampFile, `${JSON.stringify({ hash, imageId: id } satisfies Stamp)}\n`);
  return recipe.exported ? { name: recipe.name, archive, imageId: id, built: build } : undefined;
}

/** Builds the image and drops the one it replaces, which nothing names any more. */
async function buildImage(ctx: Ctx, recipe: Recipe, replaced: string | undefined): Promise<string> {
  const started = Date.now();
  await recipe.build(ctx);
  const id = await imageId(ctx, recipe.name);
  if (!id) throw new Error(`the build of ${recipe.name} left no image of that name`);
  log(`${recipe.name}: built in ${elapsed(started)}`);
  // The storage keeps the layers that other images still use; a failure here only leaves a stale image.
  if (replaced && replaced !== id)
    await execute('buildah', [...buildahGlobalArgs(ctx.paths), 'rmi', replaced], ctx.env);
  return id;
}

function preflight(env: NodeJS.ProcessEnv): void {
  if (process.getuid?.() !== 0)
    throw new Error('building the cluster images needs root: buildah with its own storage, debootstrap');
  const missing = ['buildah', 'runc'].filter((tool) => !findTool(tool, env));
  if (missing.length) throw new Error(`${missing.join(' and ')} not found: apt-get install buildah debootstrap runc`);
}

/** The recipes whose binaries exist; the others fail the build, or are left out with a warning when allowed. */
function buildable(all: Recipe[], allowMissing: boolean): Recipe[] {
  const missing = all.flatMap((r) => (r.binaries ?? []).filter((b) => !existsSync(b)));
  if (missing.length && !allowMissing)
    throw new Error(`missing binaries, built by tools/cluster/build.ts: ${missing.join(', ')}`);
  for (const file of missing) log(`skipping the image of ${file}: not built yet`);
  return all.filter((r) => (r.binaries ?? []).every((b) => existsSync(b)));
}

/**
 * Builds (or finds up to date) every image the cluster runs and returns their OCI archives. Safe to run
 * several times at once: a lock serialises the builds.
 */
export async function ensureImages(options: EnsureImagesOptions = {}): Promise<ImageArchive[]> {
  const root = options.root ?? PROJECT_ROOT;
  const paths = imagesHome(root);
  const env = toolEnv();
  preflight(env);
  for (const dir of [paths.storage, paths.runroot, paths.stamps]) mkdirSync(dir, { recursive: true });
  const todo = buildable(recipes(root), options.allowMissingBinaries ?? false);
  const started = Date.now();
  return withLock(paths.lock, async () => {
    const ctx: Ctx = { paths, root, env, tmp: mkdtempSync(join(tmpdir(), 'cluster-images-')) };
    try {
      const images: ImageArchive[] = [];
      for (const recipe of todo) {
        const image = await ensureImage(ctx, recipe);
        if (image) images.push(image);
      }
      const built = images.filter((i) => i.built).length;
      log(`${images.length} images ready in ${paths.archives}, ${built} built (${elapsed(started)})`);
      return images;
    } finally {
      rmSync(ctx.tmp, { recursive: true, force: true });
    }
  });
}

// ---------------------------------------------------------------------------------------------------------
// What a service image is

export interface AppImageFacts {
  name: string;
  /** The image's USER, CMD, ENTRYPOINT, WORKDIR and ENV, as containerd will run them. */
  user: string;
  cmd: string[];
  entrypoint: string[];
  workingDir: string;
  env: Record<string, string>;
  /** What the runtime user is, and the node that starts, from `node -e` inside the image. */
  uid: number;
  gid: number;
  nodeVersion: string;
  /** Where require('@portable-dapr/common') leads from the working directory. */
  commonResolvesTo: string;
  /**
   * Packages the lock file installs for development only (jest, typescript, ...) found in the image, by
   * path below the app folder. A devDependency that a production package also needs (@types/node,
   * @azure/identity) is not one of them.
   */
  devOnlyPackagesInstalled: string[];
  /** The workspace packages linked in the app's node_modules (@portable-dapr/...). */
  workspacePackagesInstalled: string[];
  /** Files and folders of the app (the parent of WORKDIR) that the runtime user could change. */
  writableByRuntimeUser: string[];
  /** The image's CMD started without any setting: the service must refuse with its configuration error. */
  startWithoutSettings: { exitCode: number | null; output: string };
}

interface ImageConfig {
  User?: string;
  Cmd?: string[];
  Entrypoint?: string[];
  WorkingDir?: string;
  Env?: string[];
}

async function imageConfig(ctx: Pick<Ctx, 'paths' | 'env'>, name: string): Promise<ImageConfig> {
  const out = await buildah(ctx, ['inspect', '--type', 'image', name]);
  return (JSON.parse(out) as { OCIv1: { config?: ImageConfig } }).OCIv1.config ?? {};
}

/** Runs `fn` with a working container of `image` and its root file system mounted; removes both after. */
async function withContainer<T>(
  ctx: Pick<Ctx, 'paths' | 'env'>,
  image: string,
  fn: (container: string, rootfs: string) => Promise<T>,
): Promise<T> {
  const container = (await buildah(ctx, ['from', '--pull=never', image])).trim().split('\n').at(-1);
  if (!container) throw new Error(`buildah from ${image} named no container`);
  try {
    return await fn(container, (await buildah(ctx, ['mount', container])).trim());
  } finally {
    await buildah(ctx, ['rm', container]);
  }
}

/** The paths below `dir` that uid/gid can write to (ownership and mode bits; root-owned 0755 is not). */
function writableBy(rootfs: string, dir: string, uid: number, gid: number, out: string[] = []): string[] {
  const s = lstatSync(join(rootfs, dir));
  if (s.isSymbolicLink()) return out;
  const w = (s.uid === uid && s.mode & 0o200) || (s.gid === gid && s.mode & 0o020) || s.mode & 0o002;
  if (w) out.push(dir);
  if (s.isDirectory())
    for (const e of readdirSync(join(rootfs, dir))) writableBy(rootfs, posix.join(dir, e), uid, gid, out);
  return out;
}

/** The packages package-lock.json marks as needed only for development (`"dev": true`), by install path. */
function devOnlyPackages(root: string): string[] {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  return Object.entries(lock.packages)
    .filter(([path, entry]) => entry.dev && path.includes('node_modules/'))
    .map(([path]) => path);
}

const PROBE = `const fs = require('fs');
console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), version: process.version,
  common: fs.realpathSync(require.resolve('@portable-dapr/common')) }));`;

/** The output of a `buildah run` without buildah's own line about the exit status. */
const withoutBuildahNote = (output: string) =>
  output
    .split('\n')
    .filter((line) => !line.startsWith('Error: while running runtime'))
    .join('\n')
    .trim();

/** `buildah run` without network: what the image does, not what the machine offers. */
async function runIn(ctx: Pick<Ctx, 'paths' | 'env'>, container: string, command: string[]): Promise<Result> {
  return execute(
    'buildah',
    [...buildahGlobalArgs(ctx.paths), 'run', '--network', 'none', container, '--', ...command],
    ctx.env,
  );
}

/**
 * The facts a test asserts on for a service image (what the Dockerfile promises): non-root, production
 * dependencies only, read-only app files, node starting in WORKDIR, and the service's own refusal to start
 * without its settings. Leaves no container behind.
 */
export async function inspectAppImage(name: string, root = PROJECT_ROOT): Promise<AppImageFacts> {
  const ctx = { paths: imagesHome(root), env: toolEnv() };
  const config = await imageConfig(ctx, name);
  const workingDir = config.WorkingDir ?? '/';
  return withContainer(ctx, name, async (container, rootfs) => {
    const probe = await runIn(ctx, container, ['node', '-e', PROBE]);
    if (probe.code !== 0) throw new Error(`node does not start in ${name}: ${probe.stderr || probe.stdout}`);
    const facts = JSON.parse(probe.stdout.trim().split('\n').at(-1) ?? '') as {
      uid: number;
      gid: number;
      version: string;
      common: string;
    };
    const app = posix.dirname(workingDir);
    const installed = (path: string) => existsSync(join(rootfs, app, path, 'package.json'));
    const scope = join(rootfs, app, 'node_modules', '@portable-dapr');
    // `timeout`: a service that started instead of refusing must not hold the build container forever.
    const start = await runIn(ctx, container, ['timeout', '60', ...(config.Entrypoint ?? []), ...(config.Cmd ?? [])]);
    return {
      name,
      user: config.User ?? '',
      cmd: config.Cmd ?? [],
      entrypoint: config.Entrypoint ?? [],
      workingDir,
      env: Object.fromEntries((config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
      uid: facts.uid,
      gid: facts.gid,
      nodeVersion: facts.version,
      commonResolvesTo: facts.common,
      devOnlyPackagesInstalled: devOnlyPackages(root).filter(installed),
      workspacePackagesInstalled: existsSync(scope) ? readdirSync(scope).map((p) => `@portable-dapr/${p}`) : [],
      writableByRuntimeUser: writableBy(rootfs, app, facts.uid, facts.gid),
      startWithoutSettings: { exitCode: start.code, output: withoutBuildahNote(start.stderr + start.stdout) },
    };
  });
}

// ---------------------------------------------------------------------------------------------------------

async function main(argv: string[]): Promise<void> {
  const images = await ensureImages({ allowMissingBinaries: argv.includes('--allow-missing') });
  for (const image of images)
    console.log(
      `${image.built ? 'built' : 'ready'}  ${megabytes(statSync(image.archive).size).padStart(9)}  ${image.name}`,
    );
  if (argv.includes('--inspect'))
    for (const service of APP_SERVICES) console.log(JSON.stringify(await inspectAppImage(appImage(service)), null, 2));
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(`[images] ${(err as Error).message}`);
    process.exit(1);
  });
}
