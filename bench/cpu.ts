import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time per process over a stretch of a run, from /proc/<pid>/stat (utime + stime: every thread of the
 * process). A named group of processes is matched by a classifier: an app or a sidecar by its process
 * group (the launcher starts each in a group of its own, so whatever it spawns counts too), PostgreSQL as
 * the postmaster, its server processes and only the backends of the databases under test, Redis by pid.
 */

/** Clock ticks per second, the unit of utime and stime. */
const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
const SAMPLE_MS = 200;

export interface ProcStat {
  pid: number;
  ppid: number;
  pgrp: number;
  ticks: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; the fields after its last ')' are plain.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid, ppid: Number(rest[1]), pgrp: Number(rest[2]), ticks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return undefined; // it exited
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

/** The group a process counts in, undefined for none, or 'later' when it cannot tell yet. */
export type Classifier = (p: ProcStat) => string | undefined;
const LATER = 'later';

/** Every process of a process group. */
export const processGroup =
  (name: string, pgrp: number | undefined): Classifier =>
  (p) =>
    pgrp !== undefined && p.pgrp === pgrp ? name : undefined;

export const processId =
  (name: string, pid: number): Classifier =>
  (p) =>
    p.pid === pid ? name : undefined;

/**
 * The PostgreSQL server for a set of databases: the postmaster, its server processes (WAL writer,
 * checkpointer, autovacuum...: shared work, counted) and the client backends of those databases only;
 * `exclude` names backends of the benchmark's own bookkeeping connections.
 */
export function postgresServer(postmaster: number, databases: string[], exclude: Set<number>): Classifier {
  return (p) => {
    if (p.pid === postmaster) return 'PostgreSQL';
    if (p.ppid !== postmaster || exclude.has(p.pid)) return undefined;
    const title = commandLine(p.pid);
    // A child just forked still shows the postmaster's command line until it names itself.
    if (!title.startsWith('postgres:')) return LATER;
    const backend = /^postgres: (?:\S+: )?\S+ (\S+) (?:\S+\(\d+\)|\[local\])/.exec(title);
    if (!backend) return 'PostgreSQL';
    return backend[1] !== undefined && databases.includes(backend[1]) ? 'PostgreSQL' : undefined;
  };
}

/** CPU milliseconds per group between start() and stop(), sampled so processes born meanwhile count too. */
export class CpuSampler {
  private readonly owner = new Map<number, string | undefined>();
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly classifiers: Classifier[]) {}

  start(): this {
    this.sample(true);
    this.timer = setInterval(() => this.sample(false), SAMPLE_MS);
    return this;
  }

  stop(): Record<string, number> {
    clearInterval(this.timer);
    this.sample(false);
    const ms: Record<string, number> = {};
    for (const [pid, group] of this.owner) {
      if (group === undefined) continue;
      const used = (this.last.get(pid) ?? 0) - (this.first.get(pid) ?? 0);
      ms[group] = (ms[group] ?? 0) + (used * 1000) / TICKS_PER_SECOND;
    }
    return ms;
  }

  /** Reads the processes already known to be ours, and classifies the new ones (once each). */
  private sample(initial: boolean): void {
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      if (!Number.isInteger(pid) || (this.owner.has(pid) && this.owner.get(pid) === undefined)) continue;
      const stat = readStat(pid);
      if (!stat) continue;
      if (!this.owner.has(pid)) {
        const group = this.classify(stat);
        if (group === LATER) continue;
        this.owner.set(pid, group);
        if (group === undefined) continue;
        // A process born after the start counts from zero.
        this.first.set(pid, initial ? stat.ticks : 0);
      }
      this.last.set(pid, stat.ticks);
    }
  }

  private classify(stat: ProcStat): string | undefined {
    for (const classify of this.classifiers) {
      const group = classify(stat);
      if (group !== undefined) return group;
    }
    return undefined;
  }
}

/** Runs `fn` with a sampler running; answers its result and the CPU milliseconds per group. */
export async function withCpu<T>(
  classifiers: Classifier[],
  fn: () => Promise<T>,
): Promise<{ result: T; cpuMs: Record<string, number> }> {
  const sampler = new CpuSampler(classifiers).start();
  try {
    const result = await fn();
    return { result, cpuMs: sampler.stop() };
  } catch (err) {
    sampler.stop();
    throw err;
  }
}

/** The postmaster: the parent of a backend this connection's server gave us. */
export function postmasterOf(backendPid: number): number {
  const stat = readStat(backendPid);
  if (!stat) throw new Error(`no process ${backendPid}: is PostgreSQL on this machine?`);
  return stat.ppid;
}

/** The Redis server's pid, as it reports it. */
export function redisPid(port: number): number {
  const info = execFileSync('redis-cli', ['-p', String(port), 'INFO', 'server']).toString();
  const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
  if (!Number.isInteger(pid)) throw new Error('redis-cli INFO server named no process_id');
  return pid;
}
