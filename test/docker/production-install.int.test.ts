/**
 * The images without a Docker engine: for each service, replays the `deps` and `runtime` stages of
 * <service>/Dockerfile in a temporary folder (its COPY instructions, its `npm ci --omit=dev --workspace
 * <service>`, the compiled dist of the `build` stage, its WORKDIR and CMD), starts the service as the
 * image would, and checks that it answers /healthz and that no development-only package was installed.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { freePorts } from '../../tools/stack/ports';
import { createTestDatabases } from '../support/databases';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';

const repoRoot = resolve(__dirname, '../..');
const SERVICES = ['catalog', 'audit'] as const;
type Service = (typeof SERVICES)[number];
/** Development-only packages (root devDependencies and their tooling) that must not be in an image. */
const DEV_ONLY = ['typescript', 'jest', 'ts-jest', 'tsx', 'supertest', 'fastest-levenshtein', '@types/jest', 'sqlite3'];

jest.setTimeout(300_000);

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

/** A small Dockerfile reader: continuation lines, comments, global ARGs substituted in FROM. */
export function parseDockerfile(text: string): { stages: Stage[]; globalArgs: Record<string, string> } {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [, op, args] = /^(\S+)\s*(.*)$/.exec(line)!;
    const upper = op!.toUpperCase();
    if (upper === 'ARG' && !stages.length) {
      const [k, v] = args!.split('=');
      globalArgs[k!] = v ?? '';
    } else if (upper === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args!)!;
      const image = m[1]!.replace(/\$\{(\w+)\}/g, (_, k: string) => globalArgs[k] ?? '');
      stages.push({ image, name: m[2], instructions: [] });
    } else {
      if (!stages.length) throw new Error(`Dockerfile: ${upper} before FROM`);
      stages.at(-1)!.instructions.push({ op: upper, args: args! });
    }
  }
  return { stages, globalArgs };
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((ok, fail) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', fail);
    child.on('close', (code) =>
      code === 0
        ? ok(output)
        : fail(new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${code}:\n${output.slice(-4000)}`)),
    );
  });
}

/** Splits a shell word list (no quoting is used in the RUN lines this replays). */
const words = (s: string) => s.trim().split(/\s+/).filter(Boolean);

interface Replayed {
  dir: string;
  cwd: string;
  cmd: string[];
  env: Record<string, string>;
  user?: string;
  exposed?: number;
}

/**
 * Replays a service's image stages: container path /app is the temporary folder; /src of the build
 * stage is the repository (its dist folders come from `npx tsc -b`).
 */
async function replayImage(svc: Service, dir: string): Promise<Replayed> {
  const { stages } = parseDockerfile(readFileSync(join(repoRoot, svc, 'Dockerfile'), 'utf8'));
  const byName = new Map(stages.map((s) => [s.name, s]));
  const build = byName.get('build');
  const deps = byName.get('deps');
  const runtime = stages.at(-1)!;
  if (!build || !deps || runtime === deps)
    throw new Error(`${svc}/Dockerfile: expected stages build, deps and a final runtime stage`);
  const buildWorkdir = build.instructions.find((i) => i.op === 'WORKDIR')?.args ?? '/';

  const host = (containerPath: string) => {
    if (containerPath !== '/app' && !containerPath.startsWith('/app/'))
      throw new Error(`${svc}/Dockerfile: the replay maps only /app, not ${containerPath}`);
    return join(dir, containerPath.slice('/app'.length));
  };
  const copy = (from: string, to: string) => {
    mkdirSync(dirname(to), { recursive: true });
    cpSync(from, to, { recursive: true });
  };

  const state: Replayed = { dir, cwd: dir, cmd: [], env: {} };
  let workdir = '/';
  for (const stage of [deps, runtime]) {
    workdir = '/';
    for (const { op, args } of stage.instructions) {
      switch (op) {
        case 'WORKDIR':
          workdir = posix.resolve(workdir, args);
          mkdirSync(host(workdir), { recursive: true });
          break;
        case 'ENV':
          for (const [, k, v] of args.matchAll(/(\w+)=(\S+)/g)) state.env[k!] = v!;
          break;
        case 'COPY': {
          const parts = words(args);
          const from = parts.find((p) => p.startsWith('--from='))?.slice('--from='.length);
          const paths = parts.filter((p) => !p.startsWith('--'));
          const dest = paths.pop()!;
          const destPath = posix.resolve(workdir, dest);
          if (from === 'deps') {
            // The deps stage's /app is this very folder.
            if (paths.join() !== '/app' || destPath !== '/app')
              throw new Error(`${svc}/Dockerfile: unexpected ${op} ${args}`);
          } else if (from === 'build') {
            for (const p of paths) copy(join(repoRoot, posix.relative(buildWorkdir, p)), host(destPath));
          } else if (from) {
            throw new Error(`${svc}/Dockerfile: COPY --from=${from} is not replayed`);
          } else {
            for (const p of paths) {
              const src = join(repoRoot, p);
              const target =
                dest.endsWith('/') && statSync(src).isFile() ? join(host(destPath), posix.basename(p)) : host(destPath);
              copy(src, target);
            }
          }
          break;
        }
        case 'RUN':
          for (const command of args.split('&&').map((c) => c.trim())) {
            if (/^npm ci\b/.test(command)) {
              // As written in the Dockerfile; --prefer-offline takes packages from the npm cache where it can.
              await run('npm', [...words(command).slice(1), '--prefer-offline'], host(workdir));
            } else if (!/^npm cache clean\b/.test(command)) {
              // Cleaning the cache only shrinks the image layer; anything else must be taught to this replay.
              throw new Error(`${svc}/Dockerfile: RUN ${command} is not replayed`);
            }
          }
          break;
        case 'USER':
          state.user = args;
          break;
        case 'EXPOSE':
          state.exposed = Number(args);
          break;
        case 'CMD':
          state.cmd = JSON.parse(args) as string[];
          break;
        case 'HEALTHCHECK':
        case 'ARG':
        case 'LABEL':
          break;
        default:
          throw new Error(`${svc}/Dockerfile: ${op} is not replayed`);
      }
    }
  }
  state.cwd = host(workdir);
  return state;
}

async function waitForHealth(url: string, child: ChildProcess, output: () => string): Promise<number> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}:\n${output()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      return res.status;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`no answer from ${url} within 60 s:\n${output()}`);
}

describe('production images, replayed without Docker', () => {
  const dirs: string[] = [];
  let replayed: Record<Service, Replayed>;

  beforeAll(async () => {
    // The build stage's output: the compiled dist folders.
    if (!['common', ...SERVICES].every((w) => existsSync(join(repoRoot, w, 'dist')))) {
      await run('npx', ['tsc', '-b', 'common', ...SERVICES], repoRoot);
    }
    // Both installs at once.
    const entries = await Promise.all(
      SERVICES.map(async (svc) => {
        const dir = mkdtempSync(join(tmpdir(), `image-${svc}-`));
        dirs.push(dir);
        return [svc, await replayImage(svc, dir)] as const;
      }),
    );
    replayed = Object.fromEntries(entries) as Record<Service, Replayed>;
  });

  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it.each(SERVICES)(
    '%s/Dockerfile: multi-stage, pinned Node LTS, production dependencies only, non-root, node dist/main.js',
    (svc) => {
      const text = readFileSync(join(repoRoot, svc, 'Dockerfile'), 'utf8');
      const { stages } = parseDockerfile(text);
      expect(stages.map((s) => s.name)).toEqual(['build', 'deps', 'runtime']);
      // Every stage on the same pinned release of an LTS line (even majors are the LTS lines), the one
      // CI also tests on (.ci/run reads catalog/Dockerfile's NODE_VERSION).
      const imageNode = /^ARG NODE_VERSION=(\d+)\.(\d+)\.(\d+)$/m.exec(text);
      expect(imageNode).not.toBeNull();
      expect(Number(imageNode![1]) % 2).toBe(0);
      expect(Number(imageNode![1])).toBeGreaterThanOrEqual(24);
      expect(imageNode![0]).toBe(
        /^ARG NODE_VERSION=.*$/m.exec(readFileSync(join(repoRoot, 'catalog', 'Dockerfile'), 'utf8'))![0],
      );
      for (const s of stages)
        expect(s.image).toBe(`node:${imageNode![1]}.${imageNode![2]}.${imageNode![3]}-bookworm-slim`);
      expect(stages.at(-1)!.image).toMatch(/-slim$/);
      expect(text).toContain(`npm ci --omit=dev --ignore-scripts --workspace ${svc}`);
      expect(text).toContain(`npx tsc -b common ${svc}`);
      expect(replayed[svc].user).toBe('node');
      expect(replayed[svc].cmd).toEqual(['node', 'dist/main.js']);
      expect(replayed[svc].cwd).toBe(join(replayed[svc].dir, svc));
      expect(replayed[svc].env.NODE_ENV).toBe('production');
    },
  );

  it('.dockerignore keeps local builds, dependencies, secrets and history out of the build context', () => {
    const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    for (const entry of ['**/node_modules', '**/dist', '.git', '**/.dapr', '**/*.log', '**/.env'])
      expect(ignored).toContain(entry);
  });

  it.each(SERVICES)(
    '%s: the installed image has no development-only package and resolves the common workspace',
    (svc) => {
      const { dir, cwd } = replayed[svc];
      for (const pkg of DEV_ONLY)
        expect(existsSync(join(dir, 'node_modules', pkg, 'package.json')) ? pkg : undefined).toBeUndefined();
      // Resolved by a plain node in the service folder (jest would map the module to its sources).
      const common = execFileSync(
        process.execPath,
        ['-p', "require('fs').realpathSync(require.resolve('@portable-dapr/common'))"],
        { cwd, encoding: 'utf8' },
      ).trim();
      expect(common).toBe(realpathSync(join(dir, 'common', 'dist', 'index.js')));
      // The other service's workspace is not installed into this image.
      const other = SERVICES.find((s) => s !== svc)!;
      expect(existsSync(join(dir, 'node_modules', '@portable-dapr', other))).toBe(false);
    },
  );

  it.each(SERVICES)(
    '%s: starts like the image does (CMD in WORKDIR) and answers /healthz, then stops on SIGTERM',
    async (svc) => {
      const { cwd, cmd, env } = replayed[svc];
      const dbs = await createTestDatabases('postgres', [svc], 'img');
      const [port, unusedSidecarPort] = (await freePorts(2)) as [number, number];
      const child = spawn(process.execPath, cmd.slice(1), {
        cwd,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          ...env,
          PORT: String(port),
          DB_SERVER: '127.0.0.1',
          DB_USER: 'postgres',
          DB_NAME: dbs.names[svc],
          MIGRATE_ON_START: 'true',
          DAPR_HTTP_PORT: String(unusedSidecarPort),
          LOG_LEVEL: 'warn',
          SHUTDOWN_TIMEOUT_MS: '2000',
        },
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      try {
        expect(await waitForHealth(`http://127.0.0.1:${port}/healthz`, child, () => output)).toBe(200);
        const version = await fetch(`http://127.0.0.1:${port}/api/version`);
        expect(version.status).toBe(200);
        expect(await version.text()).toBe(
          (JSON.parse(readFileSync(join(repoRoot, svc, 'package.json'), 'utf8')) as { version: string }).version,
        );
        // No sidecar here: readiness says so instead of pretending.
        expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(503);
      } finally {
        child.kill('SIGTERM');
      }
      expect(await exited).toBe(0);
      await dbs.drop();
    },
  );
});
