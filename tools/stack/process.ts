import { ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Whether a process with that pid exists (signal 0 checks without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return pid !== 0; // 0 would mean our own process group; a negative pid is a group
  } catch {
    return false;
  }
}

/** The last lines of a log file, for an error message. */
export function tailOf(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Every process the launcher started and has not seen exit; killed on the way out whatever happens. */
const live = new Set<ManagedProcess>();

export interface ProcessOptions {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Output goes here (always) and, with `echo`, to the console prefixed by the name. */
  logFile: string;
  echo?: boolean;
  /** A file that gets one pid per line, for a clean-up after a crash of the launcher itself. */
  pidFile?: string;
}

/** A child process in its own process group, so stopping it stops whatever it spawned too. */
export class ManagedProcess {
  private child?: ChildProcess;
  private exitPromise?: Promise<number | null>;

  constructor(readonly options: ProcessOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.running) throw new Error(`${this.options.name} is already running`);
    const o = this.options;
    mkdirSync(dirname(o.logFile), { recursive: true });
    const log = createWriteStream(o.logFile, { flags: 'a' });
    const child = spawn(o.command, o.args, {
      cwd: o.cwd,
      env: o.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    live.add(this);
    if (o.pidFile && child.pid) appendFileSync(o.pidFile, `${child.pid}\n`);
    const forward = (chunk: Buffer) => {
      if (!log.writableEnded) log.write(chunk);
      if (o.echo)
        for (const line of chunk.toString().split('\n')) if (line.trim()) process.stdout.write(`[${o.name}] ${line}\n`);
    };
    child.stdout?.on('data', forward);
    child.stderr?.on('data', forward);
    this.exitPromise = new Promise((resolve) => {
      child.on('error', (err) => {
        if (!log.writableEnded) log.end(`failed to start: ${err.message}\n`);
        resolve(null);
      });
      child.on('exit', (code) => {
        live.delete(this);
        resolve(code);
      });
      // Output can still arrive after 'exit' (the pipes drain later): the log ends once they are closed.
      child.on('close', () => log.end());
    });
  }

  /** Resolves with the exit code when the process ends. */
  exited(): Promise<number | null> {
    return this.exitPromise ?? Promise.resolve(null);
  }

  private signal(sig: NodeJS.Signals): void {
    if (!this.child?.pid) return;
    try {
      process.kill(-this.child.pid, sig);
    } catch {
      /* already gone */
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited();
    clearTimeout(timer);
  }

  async kill(): Promise<void> {
    if (!this.running) return;
    this.signal('SIGKILL');
    await this.exited();
  }

  static killAllNow(): void {
    for (const p of live) p.signal('SIGKILL');
  }
}

// Whatever ends this process, its children end with it.
process.on('exit', () => ManagedProcess.killAllNow());
