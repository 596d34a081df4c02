/**
 * The cgroup the kubelet puts every pod under (its `cgroupRoot`): one per cluster, in every mounted
 * hierarchy (cgroup v1 has one per controller; v2 one for all), made before the kubelet starts and
 * removed by the supervisor once the node's processes are gone. A cgroup is a kernel object outside
 * every namespace: left behind, it would outlive the cluster.
 */
import { existsSync, readdirSync, readFileSync, rmdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CGROUP_PREFIX } from './layout';
import { isAlive } from '../stack/process';

/** The mount points of the cgroup file systems (v1 and v2) this process sees. */
export function cgroupMounts(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  return mountinfo
    .split('\n')
    .map((line) => line.split(' - '))
    .filter(([, after]) => /^cgroup2? /.test(after ?? ''))
    .flatMap(([before]) => before?.split(' ')[4] ?? []);
}

/** Creates `/<name>` in every hierarchy; cpuset needs its CPUs and memory nodes before anything joins. */
export function createCgroup(name: string): void {
  for (const mount of cgroupMounts()) {
    const dir = join(mount, name);
    mkdirSync(dir, { recursive: true });
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      const parent = join(mount, file);
      if (existsSync(parent) && existsSync(join(dir, file)) && readFileSync(join(dir, file), 'utf8').trim() === '')
        writeFileSync(join(dir, file), readFileSync(parent, 'utf8'));
    }
  }
}

/** rmdir, children first; false while a task is still in one of them (the kernel refuses with EBUSY). */
function removeTree(dir: string): boolean {
  let removed = true;
  for (const entry of readdirSync(dir, { withFileTypes: true }))
    if (entry.isDirectory()) removed = removeTree(join(dir, entry.name)) && removed;
  try {
    rmdirSync(dir);
    return removed;
  } catch {
    return false;
  }
}

/** Removes `/<name>` from every hierarchy; true when none is left. */
export function removeCgroup(name: string): boolean {
  let all = true;
  for (const mount of cgroupMounts()) if (existsSync(join(mount, name))) all = removeTree(join(mount, name)) && all;
  return all;
}

/** The cgroups of clusters whose supervisor is gone (killed with SIGKILL, or the machine's power). */
export function removeStaleCgroups(): void {
  const names = new Set(
    cgroupMounts().flatMap((m) => (existsSync(m) ? readdirSync(m).filter((d) => d.startsWith(CGROUP_PREFIX)) : [])),
  );
  for (const name of names) if (!isAlive(Number(name.slice(CGROUP_PREFIX.length)))) removeCgroup(name);
}
