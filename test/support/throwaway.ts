import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { freePort } from '../../tools/stack';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Servers a test owns: started on a free port in a temporary folder, stopped and started again at will
 * to simulate an outage, and removed at the end. Never the machine's shared servers.
 */

const isRoot = process.getuid?.() === 0;

/** PostgreSQL refuses to run as root: as root, run its tools as the `postgres` system user. */
function pgTool(tool: string, args: string[]): void {
  const [cmd, cmdArgs] = isRoot ? ['runuser', ['-u', 'postgres', '--', tool, ...args]] : [tool, args];
  execFileSync(cmd, cmdArgs, { stdio: 'pipe' });
}

export class ThrowawayPostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async create(): Promise<ThrowawayPostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'pdm-pg-'));
    if (isRoot)
      chownSync(
        dir,
        Number(execFileSync('id', ['-u', 'postgres']).toString()),
        Number(execFileSync('id', ['-g', 'postgres']).toString()),
      );
    pgTool('initdb', ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    const pg = new ThrowawayPostgres(dir, await freePort());
    pg.start();
    return pg;
  }

  start(): void {
    pgTool('pg_ctl', [
      '-D',
      join(this.dir, 'data'),
      '-l',
      join(this.dir, 'server.log'),
      '-w',
      '-t',
      '30',
      '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      'start',
    ]);
  }

  /** Fast shutdown: connections are cut at once, as in a crash of the server. */
  stop(): void {
    pgTool('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
  }

  destroy(): void {
    try {
      this.stop();
    } catch {
      /* already stopped */
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class ThrowawayRedis {
  private process?: ChildProcess;

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async create(): Promise<ThrowawayRedis> {
    const r = new ThrowawayRedis(mkdtempSync(join(tmpdir(), 'pdm-redis-')), await freePort());
    await r.start();
    return r;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Starts redis-server with persistence on (AOF), so messages survive a stop and start like a real broker's. */
  async start(): Promise<void> {
    this.process = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
      ],
      {
        stdio: 'ignore',
      },
    );
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      try {
        if (
          execFileSync('redis-cli', ['-p', String(this.port), 'ping'], { stdio: 'pipe' })
            .toString()
            .trim() === 'PONG'
        )
          return;
      } catch {
        /* not yet */
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('throwaway redis did not start');
  }

  async stop(): Promise<void> {
    const p = this.process;
    if (p?.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
