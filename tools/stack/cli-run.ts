import { ChildProcess, execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { ResolvedApp } from './run-file';
import { isAlive } from './process';

/**
 * `dapr run -f` under `npm start`: the real Dapr CLI runs the run file; this watches it. The CLI keeps
 * going when a sidecar exits at start and leaves the other processes running, and it runs in a process
 * group of its own, so Ctrl-C on `npm start` never reaches it. So: a line of the CLI saying a daprd or an
 * app failed, or a stack not healthy in time, stops everything; a signal is passed on as SIGINT, on which
 * the CLI stops its apps and sidecars; and whatever the CLI started and left behind (its children are
 * noted while it runs) is stopped after it exits.
 */

/** What the CLI prints (cmd/run.go, CLI 1.18) when a run cannot go on. */
const FAILURE = [
  'The daprd process exited with error code',
  'The App process exited with error code',
  'The App process was terminated by signal',
  'Error starting Dapr and app',
  'Error validating run config',
  'Error getting apps from config file',
  'Failed to get run file path',
];
/** The line of the CLI's output saying the run cannot go on, if this is one. */
export function cliFailure(line: string): string | undefined {
  return FAILURE.some((f) => line.includes(f)) ? line.trim() : undefined;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Whether `promise` settles within `ms` (its timer cleared either way, so it holds nothing up). */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * SIGTERM, then SIGKILL after `graceMs`, to the process group `pid` leads (the CLI starts each app as a
 * group leader), or to the process alone when it leads none (daprd).
 */
async function stopProcess(pid: number, graceMs = 5_000): Promise<void> {
  const target = isAlive(-pid) ? -pid : pid;
  if (!isAlive(target)) return;
  process.kill(target, 'SIGTERM');
  for (const until = Date.now() + graceMs; Date.now() < until && isAlive(target);) await sleep(100);
  if (isAlive(target)) process.kill(target, 'SIGKILL');
}

/** The processes `pid` started (pgrep -P: Linux and macOS alike). */
function childrenOf(pid: number): Promise<number[]> {
  return new Promise((resolve) =>
    execFile('pgrep', ['-P', String(pid)], (_err, stdout) => resolve(stdout.split(/\s+/).filter(Boolean).map(Number))),
  );
}

const healthy = async (url: string, status: number) => {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1_000) })).status === status;
  } catch {
    return false;
  }
};

export class CliRun {
  /** The CLI once started, and its exit code when it has exited. */
  private cliProcess?: { child: ChildProcess; exited: Promise<number> };
  /** Everything the CLI started (daprd, the apps), noted while it runs. */
  private readonly started = new Set<number>();
  private failure?: string;
  /** daprd's last fatal line: why a sidecar exited, for the final message. */
  private lastFatal?: string;
  private signalled = false;
  private stopping?: Promise<void>;

  constructor(
    private readonly cli: string,
    private readonly cwd: string,
    private readonly apps: ResolvedApp[],
    /** A run file to pass on stdin (`dapr run -f -`); the repository's dapr.yaml when undefined. */
    private readonly input?: string,
    private readonly readyTimeoutMs = 120_000,
  ) {}

  /** Runs until a signal or a failure; resolves with the exit code for `npm start`. */
  async run(onReady: () => void): Promise<number> {
    const child = spawn(this.cli, ['run', '-f', this.input === undefined ? '.' : '-'], {
      cwd: this.cwd,
      stdio: 'pipe',
    });
    // Without a run file to pass, the CLI reads nothing: its stdin ends at once.
    child.stdin.end(this.input);
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
    this.cliProcess = { child, exited };
    for (const [stream, out] of [
      [child.stdout, process.stdout],
      [child.stderr, process.stderr],
    ] as const) {
      createInterface({ input: stream }).on('line', (line) => {
        out.write(`${line}\n`);
        this.onLine(line);
      });
    }
    const noteChildren = setInterval(() => {
      if (child.pid) void childrenOf(child.pid).then((pids) => pids.forEach((p) => this.started.add(p)));
    }, 500);
    const onSignal = () => {
      this.signalled = true;
      void this.stop();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    void this.watchReadiness(onReady);

    const code = await exited;
    clearInterval(noteChildren);
    await this.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (this.failure) {
      console.error(
        `npm start: stopped everything because: ${this.failure}${this.lastFatal ? `\n  daprd: ${this.lastFatal}` : ''}`,
      );
      return 1;
    }
    return this.signalled ? 0 : code;
  }

  private onLine(line: string): void {
    if (line.includes('level=fatal')) this.lastFatal = /msg="((?:[^"\\]|\\.)*)"/.exec(line)?.[1] ?? line;
    const failure = cliFailure(line);
    if (failure && !this.stopping) {
      this.failure = failure;
      void this.stop();
    }
  }

  private async watchReadiness(onReady: () => void): Promise<void> {
    const until = Date.now() + this.readyTimeoutMs;
    while (!this.stopping && Date.now() < until) {
      const all = await Promise.all(
        this.apps.flatMap((a) => [
          healthy(`http://127.0.0.1:${a.daprHTTPPort}/v1.0/healthz`, 204),
          healthy(`http://127.0.0.1:${a.appPort}/healthz`, 200),
        ]),
      );
      if (all.every(Boolean)) return onReady();
      await sleep(500);
    }
    if (!this.stopping) {
      this.failure = `not every app and sidecar answered within ${this.readyTimeoutMs / 1000} s`;
      void this.stop();
    }
  }

  /**
   * SIGINT to the CLI, on which it stops apps and sidecars (it reads the signal only once every app has
   * been started: allow it a while), SIGKILL if it has not exited by then; then whatever it started that
   * is still running.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const { child, exited } = this.cliProcess ?? {};
      if (!child?.pid || !exited) return;
      if (child.exitCode === null && child.signalCode === null) {
        for (const pid of await childrenOf(child.pid)) this.started.add(pid);
        child.kill('SIGINT');
        if (!(await within(exited, 20_000))) child.kill('SIGKILL');
      }
      await Promise.all([...this.started].map((pid) => stopProcess(pid)));
    })();
    return this.stopping;
  }
}
