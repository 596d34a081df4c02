/**
 * The pinned Dapr runtime (daprd, and sentry for the mTLS test; sentry, the sidecar injector and the
 * operator for the Kubernetes manifest tests: ensureDaprControlPlane; placement and the scheduler for the
 * single-node cluster: ensureDaprClusterServices) in the project's `.dapr/bin`, where the run file's
 * `runtimePath: ./` points. Sources, in order: an install of exactly the pinned version
 * (project, `dapr init`, PATH), the official release archive verified by its checksum, a build from
 * the Go modules with the local Go toolchain. A rerun with the binaries present is a no-op. The Dapr CLI
 * is not provided here: it is installed as the Dapr docs say, and `npm start` uses it when present.
 */
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { delimiter, join } from 'node:path';
import { capture, elapsed, runStep, say } from './progress';
import { isAlive } from '../stack/process';
import { DAPR_RUNTIME_VERSION, daprHome, GO_BUILD_MODULE, releaseUrls, userDaprBin } from './versions';
import {
  Candidate,
  daprdLdflags,
  goVersionAtLeast,
  parseDaprdVersion,
  parseSha256File,
  pickInstalled,
} from './versions-check';

const paths = daprHome();
/** Go can fetch a newer toolchain itself (GOTOOLCHAIN=auto) from 1.21 on. */
const MIN_GO_FOR_TOOLCHAIN_SWITCH = '1.21.0';
type Tool = 'daprd' | 'sentry';

async function daprdVersionOf(path: string): Promise<string | undefined> {
  try {
    return parseDaprdVersion(await capture(path, ['--version'], { timeoutMs: 15_000 }));
  } catch {
    return undefined;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

async function installedCandidates(tool: 'daprd', target: string): Promise<Candidate[]> {
  const places: Candidate[] = [
    { kind: 'project', path: target },
    { kind: 'dapr-init', path: join(userDaprBin(), tool) },
  ];
  const fromPath = onPath(tool);
  if (fromPath) places.push({ kind: 'path', path: fromPath });
  const found = places.filter((c) => existsSync(c.path));
  return Promise.all(found.map(async (c) => ({ ...c, version: await daprdVersionOf(c.path) })));
}

/** Source (a): an existing install of exactly the pinned version. */
async function useInstalled(tool: 'daprd', target: string, pinned: string): Promise<boolean> {
  const { use, ignored } = pickInstalled(await installedCandidates(tool, target), pinned);
  for (const c of ignored)
    say(`ignoring ${tool} ${c.version ?? '(version unknown)'} at ${c.path}: this project needs ${pinned}`);
  if (!use) return false;
  if (use.kind !== 'project') {
    rmSync(target, { force: true });
    symlinkSync(use.path, target);
    say(`${tool} ${pinned}: using the ${use.kind === 'path' ? 'one on PATH' : '`dapr init` install'} at ${use.path}`);
  }
  return true;
}

/**
 * Source (b): the official release archive, checked against the release's published sha256. `pinned`
 * is the version the binary must report (sentry reports none: a stamp records it instead).
 */
async function downloadRelease(tool: Tool, url: string, target: string, pinned: string | undefined): Promise<boolean> {
  try {
    const probe = await fetch(url, { method: 'HEAD', redirect: 'follow', signal: AbortSignal.timeout(4_000) });
    if (!probe.ok) throw new Error(`HTTP ${probe.status}`);
  } catch (err) {
    say(`release archive for ${tool} not reachable (${(err as Error).message}); skipping the download`);
    return false;
  }
  const started = Date.now();
  say(`downloading ${url}`);
  const [archive, sumText] = await Promise.all([
    fetch(url).then(async (r) => Buffer.from(await r.arrayBuffer())),
    fetch(`${url}.sha256`).then((r) => (r.ok ? r.text() : '')),
  ]);
  const expected = parseSha256File(sumText);
  const actual = createHash('sha256').update(archive).digest('hex');
  if (!expected || expected !== actual)
    throw new Error(`checksum mismatch for ${url}: expected ${expected ?? '(no .sha256 published)'}, got ${actual}`);
  const work = join(paths.home, 'download');
  mkdirSync(work, { recursive: true });
  const file = join(work, `${tool}.tar.gz`);
  writeFileSync(file, archive);
  await capture('tar', ['-xzf', file, '-C', work, tool]);
  renameSync(join(work, tool), target);
  chmodSync(target, 0o755);
  rmSync(work, { recursive: true, force: true });
  if (tool === 'sentry') writeFileSync(stampOf('sentry'), DAPR_RUNTIME_VERSION);
  else if ((await daprdVersionOf(target)) !== pinned)
    throw new Error(`the downloaded ${tool} does not report version ${pinned}`);
  say(
    `${tool} ${pinned ?? DAPR_RUNTIME_VERSION}: downloaded and verified (sha256 ${actual.slice(0, 12)}…) in ${elapsed(started)}`,
  );
  return true;
}

export async function goToolchain(): Promise<string | undefined> {
  try {
    const version = (await capture('go', ['env', 'GOVERSION'], { timeoutMs: 30_000 })).trim();
    return goVersionAtLeast(version, MIN_GO_FOR_TOOLCHAIN_SWITCH) ? version : undefined;
  } catch {
    return undefined;
  }
}

export function goEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    CGO_ENABLED: '0',
    GOFLAGS: [process.env.GOFLAGS, '-buildvcs=false'].filter(Boolean).join(' '),
  };
}

/**
 * Source (c): build runtime binaries from tools/dapr-build (dapr/dapr pinned, its replace directives
 * repeated) in one `go build`, so they share the compile work. Every binary gets the same tags and
 * flags as daprd, so the packages they share are compiled once and found in the Go build cache.
 */
async function buildRuntime(goVersion: string, binaries: RuntimeBinary[]): Promise<void> {
  const out = join(paths.bin, `.building-${process.pid}`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  say(
    `building ${binaries.join(' + ')} ${DAPR_RUNTIME_VERSION} from the Go modules with ${goVersion} (all components, CGO off); a cold build takes several minutes, a rebuild reuses the Go caches`,
  );
  await runStep(
    `go build ${binaries.join(' ')}`,
    'go',
    [
      'build',
      '-v',
      '-trimpath',
      '-tags',
      'allcomponents',
      '-ldflags',
      daprdLdflags(DAPR_RUNTIME_VERSION),
      '-o',
      out,
      ...binaries.map((b) => `github.com/dapr/dapr/cmd/${b}`),
    ],
    { cwd: GO_BUILD_MODULE, env: goEnv(), logFile: paths.buildLog },
  );
  for (const b of binaries) {
    renameSync(join(out, b), join(paths.bin, b));
    writeFileSync(stampOf(b), DAPR_RUNTIME_VERSION);
  }
  rmSync(out, { recursive: true, force: true });
  if (!binaries.includes('daprd')) return;
  const version = await daprdVersionOf(paths.daprd);
  if (version !== DAPR_RUNTIME_VERSION)
    throw new Error(`the built daprd reports ${version}, not ${DAPR_RUNTIME_VERSION}`);
}

type RuntimeBinary = 'daprd' | 'sentry' | 'injector' | 'operator' | 'placement' | 'scheduler';

/** Only daprd has a --version flag: a stamp written next to each of the others records the version it was obtained at. */
const stampOf = (binary: RuntimeBinary) => join(paths.bin, `.${binary}.version`);
const stamped = (binary: RuntimeBinary) =>
  existsSync(join(paths.bin, binary)) &&
  existsSync(stampOf(binary)) &&
  readFileSync(stampOf(binary), 'utf8').trim() === DAPR_RUNTIME_VERSION;

/**
 * daprd (required) and sentry (the certificate authority; only the tests that turn on mTLS and access
 * control need it locally, so a missing one is reported, not fatal).
 */
async function ensureRuntime(): Promise<void> {
  const missing: RuntimeBinary[] = [];
  if (
    !(await useInstalled('daprd', paths.daprd, DAPR_RUNTIME_VERSION)) &&
    !(await downloadRelease('daprd', releaseUrls().daprd, paths.daprd, DAPR_RUNTIME_VERSION))
  ) {
    missing.push('daprd');
  }
  if (!stamped('sentry') && !(await downloadRelease('sentry', releaseUrls().sentry, paths.sentry, undefined)))
    missing.push('sentry');
  if (missing.length === 0) return;
  const go = await goToolchain();
  if (!go) {
    if (!missing.includes('daprd')) {
      say(
        'sentry could not be provided (no Go toolchain, no release download); only the mTLS/access-control test needs it and will skip',
      );
      return;
    }
    throw new Error(
      `cannot provide the Dapr runtime ${DAPR_RUNTIME_VERSION}: no install of that version, the release archive is not reachable, and no Go toolchain (1.21 or newer) is installed.\n` +
        `Install Go (https://go.dev/dl/, or your OS package) and rerun \`npm run setup:dapr\`, or install the runtime with \`dapr init --runtime-version ${DAPR_RUNTIME_VERSION}\`.`,
    );
  }
  await buildRuntime(go, missing);
}

/**
 * Runs `fn` while holding `lockFile`, so two setups started together (two installs, `npm start` beside
 * `npm test`) never build or replace the same binaries at once; a lock left by a dead process is taken over.
 */
export async function withLock<T>(lockFile: string, fn: () => Promise<T>): Promise<T> {
  for (let waited = 0; ; waited++) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(lockFile, 'utf8')) || 0;
      if (!isAlive(holder)) {
        rmSync(lockFile, { force: true });
        continue;
      }
      if (waited % 30 === 0) say(`waiting for another setup (pid ${holder}) to finish`);
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockFile, { force: true });
  }
}

/** Makes the pinned daprd (and sentry, when it can) available in .dapr/bin. */
export async function ensureDaprRuntime(): Promise<void> {
  const started = Date.now();
  mkdirSync(paths.bin, { recursive: true });
  await withLock(join(paths.home, 'setup.lock'), ensureRuntime);
  say(`daprd ${DAPR_RUNTIME_VERSION} ready at ${paths.daprd} (${elapsed(started)})`);
}

/** Builds the `missing` control plane binaries from the Go modules, or says what to install to get them. */
async function buildControlPlane(missing: RuntimeBinary[], purpose: string): Promise<void> {
  if (missing.length === 0) return;
  const go = await goToolchain();
  if (!go) {
    throw new Error(
      `cannot build the Dapr ${missing.join(', ')} ${DAPR_RUNTIME_VERSION} for ${purpose}: no Go toolchain (1.21 or newer) is installed.\n` +
        'Install Go (https://go.dev/dl/, or your OS package: `apt-get install golang-go`); it fetches the Go version the build asks for itself.',
    );
  }
  await buildRuntime(go, missing);
}

/**
 * The Dapr control plane of the local cluster (tools/cluster), whose images are made of these binaries:
 * sentry, the sidecar injector, the operator, placement and the scheduler, in .dapr/bin. Built from the
 * Go modules (tools/dapr-build) with the flags of daprd, so they reuse its compile work, in one build;
 * a rerun with them present is a no-op.
 */
export async function ensureDaprControlPlane(): Promise<void> {
  mkdirSync(paths.bin, { recursive: true });
  await withLock(join(paths.home, 'setup.lock'), async () => {
    const built = ['injector', 'operator', 'placement', 'scheduler'] as const;
    const missing: RuntimeBinary[] = built.filter((b) => !stamped(b));
    if (!stamped('sentry') && !(await downloadRelease('sentry', releaseUrls().sentry, paths.sentry, undefined)))
      missing.push('sentry');
    await buildControlPlane(missing, 'the local Kubernetes cluster');
  });
}

if (require.main === module) {
  ensureDaprRuntime().catch((err: unknown) => {
    console.error(`[dapr] ${(err as Error).message}`);
    process.exit(1);
  });
}
