/**
 * `npm run setup:dapr`: makes the pinned Dapr runtime (daprd) and, when it can, the pinned Dapr CLI
 * available in the project's `.dapr/` folder. Sources, in order: an install of exactly the pinned
 * version (project, `dapr init`, PATH), the official release archive verified by its checksum, a
 * build from the Go modules with the local Go toolchain. A rerun with the binaries present is a no-op.
 */
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { capture, elapsed, runStep, say } from './progress';
import { DAPR_CLI_VERSION, DAPR_RUNTIME_VERSION, daprHome, GO_BUILD_MODULE, releaseUrls, userDaprBin } from './versions';
import { Candidate, cliLdflags, daprdLdflags, goVersionAtLeast, parseCliVersion, parseDaprdVersion, parseSha256File, pickInstalled } from './versions-check';

const paths = daprHome();
/** Go can fetch a newer toolchain itself (GOTOOLCHAIN=auto) from 1.21 on. */
const MIN_GO_FOR_TOOLCHAIN_SWITCH = '1.21.0';
/** A refused CLI build is not retried on every run; rerun with --retry-cli to try again sooner. */
const CLI_RETRY_AFTER_MS = 24 * 3_600_000;

type Tool = 'daprd' | 'dapr' | 'sentry';

async function versionOf(tool: 'daprd' | 'dapr', path: string): Promise<string | undefined> {
  try {
    const out = await capture(path, ['--version'], { timeoutMs: 15_000 });
    return tool === 'daprd' ? parseDaprdVersion(out) : parseCliVersion(out);
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

async function installedCandidates(tool: 'daprd' | 'dapr', target: string): Promise<Candidate[]> {
  const places: Candidate[] = [
    { kind: 'project', path: target },
    { kind: 'dapr-init', path: join(userDaprBin(), tool) },
  ];
  const fromPath = onPath(tool);
  if (fromPath) places.push({ kind: 'path', path: fromPath });
  const found = places.filter((c) => existsSync(c.path));
  return Promise.all(found.map(async (c) => ({ ...c, version: await versionOf(tool, c.path) })));
}

/** Source (a): an existing install of exactly the pinned version. */
async function useInstalled(tool: 'daprd' | 'dapr', target: string, pinned: string): Promise<boolean> {
  const { use, ignored } = pickInstalled(await installedCandidates(tool, target), pinned);
  for (const c of ignored) say(`ignoring ${tool} ${c.version ?? '(version unknown)'} at ${c.path}: this project needs ${pinned}`);
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
  if (!expected || expected !== actual) throw new Error(`checksum mismatch for ${url}: expected ${expected ?? '(no .sha256 published)'}, got ${actual}`);
  const work = join(paths.home, 'download');
  mkdirSync(work, { recursive: true });
  const file = join(work, `${tool}.tar.gz`);
  writeFileSync(file, archive);
  await capture('tar', ['-xzf', file, '-C', work, tool]);
  renameSync(join(work, tool), target);
  chmodSync(target, 0o755);
  rmSync(work, { recursive: true, force: true });
  if (tool === 'sentry') writeFileSync(stampOf('sentry'), DAPR_RUNTIME_VERSION);
  else if ((await versionOf(tool, target)) !== pinned) throw new Error(`the downloaded ${tool} does not report version ${pinned}`);
  say(`${tool} ${pinned ?? DAPR_RUNTIME_VERSION}: downloaded and verified (sha256 ${actual.slice(0, 12)}…) in ${elapsed(started)}`);
  return true;
}

async function goToolchain(): Promise<string | undefined> {
  try {
    const version = (await capture('go', ['env', 'GOVERSION'], { timeoutMs: 30_000 })).trim();
    return goVersionAtLeast(version, MIN_GO_FOR_TOOLCHAIN_SWITCH) ? version : undefined;
  } catch {
    return undefined;
  }
}

function goEnv(): NodeJS.ProcessEnv {
  return { ...process.env, CGO_ENABLED: '0', GOFLAGS: [process.env.GOFLAGS, '-buildvcs=false'].filter(Boolean).join(' ') };
}

/**
 * Source (c): build runtime binaries from tools/dapr-build (dapr/dapr pinned, its replace directives
 * repeated) in one `go build`, so they share the compile work.
 */
async function buildRuntime(goVersion: string, binaries: RuntimeBinary[]): Promise<void> {
  const out = join(paths.bin, '.building');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  say(`building ${binaries.join(' + ')} ${DAPR_RUNTIME_VERSION} from the Go modules with ${goVersion} (all components, CGO off); a cold build takes several minutes, a rebuild reuses the Go caches`);
  await runStep(
    `go build ${binaries.join(' ')}`,
    'go',
    ['build', '-v', '-trimpath', '-tags', 'allcomponents', '-ldflags', daprdLdflags(DAPR_RUNTIME_VERSION), '-o', out, ...binaries.map((b) => `github.com/dapr/dapr/cmd/${b}`)],
    { cwd: GO_BUILD_MODULE, env: goEnv(), logFile: paths.buildLog },
  );
  for (const b of binaries) {
    renameSync(join(out, b), join(paths.bin, b));
    writeFileSync(stampOf(b), DAPR_RUNTIME_VERSION);
  }
  rmSync(out, { recursive: true, force: true });
  const version = await versionOf('daprd', paths.daprd);
  if (version !== DAPR_RUNTIME_VERSION) throw new Error(`the built daprd reports ${version}, not ${DAPR_RUNTIME_VERSION}`);
}

async function buildCli(goVersion: string): Promise<void> {
  const dir = join(paths.home, 'build', 'cli');
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(GO_BUILD_MODULE, 'cli', 'go.mod'), join(dir, 'go.mod'));
  say(`building the Dapr CLI ${DAPR_CLI_VERSION} with ${goVersion}`);
  await runStep('go build dapr CLI', 'go', ['build', '-v', '-mod=mod', '-trimpath', '-ldflags', cliLdflags(DAPR_CLI_VERSION), '-o', paths.cli, 'github.com/dapr/cli'], {
    cwd: dir,
    env: goEnv(),
    logFile: paths.buildLog,
  });
}

type RuntimeBinary = 'daprd' | 'sentry';

/** sentry has no --version flag: a stamp written next to it records the version it was obtained at. */
const stampOf = (binary: RuntimeBinary) => join(paths.bin, `.${binary}.version`);
const stamped = (binary: RuntimeBinary) => existsSync(join(paths.bin, binary)) && existsSync(stampOf(binary)) && readFileSync(stampOf(binary), 'utf8').trim() === DAPR_RUNTIME_VERSION;

/**
 * daprd (required) and sentry (the certificate authority; only the tests that turn on mTLS and access
 * control need it locally, so a missing one is reported, not fatal).
 */
async function ensureRuntime(): Promise<void> {
  const missing: RuntimeBinary[] = [];
  if (!(await useInstalled('daprd', paths.daprd, DAPR_RUNTIME_VERSION)) && !(await downloadRelease('daprd', releaseUrls().daprd, paths.daprd, DAPR_RUNTIME_VERSION))) {
    missing.push('daprd');
  }
  if (!stamped('sentry') && !(await downloadRelease('sentry', releaseUrls().sentry, paths.sentry, undefined))) missing.push('sentry');
  if (missing.length === 0) return;
  const go = await goToolchain();
  if (!go) {
    if (!missing.includes('daprd')) {
      say('sentry could not be provided (no Go toolchain, no release download); only the mTLS/access-control test needs it and will skip');
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
 * The CLI is optional here: npm start and the tests run daprd directly from dapr.yaml. It is only
 * needed for `dapr run -f .`, so a CLI that cannot be provided is reported, not fatal.
 */
async function ensureCli(retry: boolean): Promise<void> {
  if (await useInstalled('dapr', paths.cli, DAPR_CLI_VERSION)) return;
  if (!retry && existsSync(paths.cliUnavailable)) {
    const last = JSON.parse(readFileSync(paths.cliUnavailable, 'utf8')) as { at: number; reason: string };
    if (Date.now() - last.at < CLI_RETRY_AFTER_MS) {
      say(`Dapr CLI ${DAPR_CLI_VERSION} not available (${last.reason}); npm start runs the apps without it (npm run setup:dapr -- --retry-cli to try again)`);
      return;
    }
  }
  try {
    if (await downloadRelease('dapr', releaseUrls().cli, paths.cli, DAPR_CLI_VERSION)) return;
    const go = await goToolchain();
    if (!go) throw new Error('no Go toolchain');
    await buildCli(go);
    rmSync(paths.cliUnavailable, { force: true });
  } catch (err) {
    const reason = describeCliFailure(err as Error);
    writeFileSync(paths.cliUnavailable, JSON.stringify({ at: Date.now(), reason }));
    say(`Dapr CLI ${DAPR_CLI_VERSION} could not be provided: ${reason}`);
    say('this is not needed by npm start or the tests; to use `dapr run -f .`, install the CLI: https://docs.dapr.io/getting-started/install-dapr-cli/');
  }
}

function describeCliFailure(err: Error): string {
  const log = existsSync(paths.buildLog) ? readFileSync(paths.buildLog, 'utf8') : '';
  if (/This module version is not available|403 Forbidden/.test(err.message + log)) {
    return `the Go module proxy does not serve github.com/dapr/cli@v${DAPR_CLI_VERSION} (403 "not available")`;
  }
  return err.message.split('\n').slice(0, 3).join(' ').slice(0, 400);
}

/** The files `dapr init` would create next to bin/, so `--runtime-path <project root>` finds a complete home. */
function writeLayout(): void {
  mkdirSync(paths.components, { recursive: true });
  if (!existsSync(paths.config)) {
    writeFileSync(
      paths.config,
      ['apiVersion: dapr.io/v1alpha1', 'kind: Configuration', 'metadata:', '  name: daprConfig', 'spec:', '  tracing:', '    samplingRate: "0"', ''].join('\n'),
    );
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  mkdirSync(paths.bin, { recursive: true });
  writeLayout();
  await ensureRuntime();
  await ensureCli(process.argv.includes('--retry-cli'));
  say(`daprd ${DAPR_RUNTIME_VERSION} ready at ${paths.daprd} (${elapsed(started)})`);
}

main().catch((err: unknown) => {
  console.error(`[dapr] ${(err as Error).message}`);
  process.exit(1);
});
