/**
 * The host-side owner of a cluster node, started detached by ./node.ts:
 *   supervisor.ts <owner-pid>     (0: no owner; the cluster runs until `npm run cluster -- down`)
 * It makes the node's namespaces (PID 1 is ./namespace-init.sh), makes the pods' cgroup, bridges the
 * API server to this machine's loopback, and records all that in the run folder's state.json. It ends
 * the node on SIGTERM, when the owner (a test run) dies however it died, or when PID 1 dies; then it
 * waits for the node's processes to be gone and removes the cgroup, so nothing outlives the cluster.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCgroup, removeCgroup, removeStaleCgroups } from './cgroups';
import { CGROUP_PREFIX, clusterRun, NODE } from './layout';
import { loopbackToUnix } from './relay';
import { isAlive } from '../stack/process';

export interface SupervisorState {
  supervisor: number;
  /** PID 1 of the node's namespaces, as this machine sees it: what nsenter targets. */
  nodePid: number;
  cgroup: string;
  /** The loopback port bridged to the API server. */
  apiPort: number;
}

const run = clusterRun();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `unshare --kill-child`: the kernel kills PID 1, hence every process of the node, when unshare dies. */
function startNamespaces(readyFile: string) {
  const log = openSync(join(run.logs, 'namespaces.log'), 'a');
  return spawn(
    'unshare',
    [
      '--net',
      '--mount',
      '--propagation=private',
      '--pid',
      '--mount-proc',
      '--kill-child',
      '--',
      'bash',
      join(__dirname, 'namespace-init.sh'),
      readyFile,
      NODE.ip,
    ],
    { stdio: ['ignore', log, log] },
  );
}

async function waitForReady(readyFile: string, holder: ReturnType<typeof startNamespaces>): Promise<number> {
  while (!existsSync(readyFile)) {
    if (holder.exitCode !== null) throw new Error(`the namespaces could not be made (see ${run.logs}/namespaces.log)`);
    await sleep(50);
  }
  const children = readFileSync(`/proc/${holder.pid}/task/${holder.pid}/children`, 'utf8').trim();
  return Number(children.split(' ')[0]);
}

async function main(): Promise<void> {
  const owner = Number(process.argv[2] ?? 0);
  removeStaleCgroups();
  const cgroup = `${CGROUP_PREFIX}${process.pid}`;
  createCgroup(cgroup);
  const readyFile = join(run.dir, 'namespaces.ready');
  rmSync(readyFile, { force: true });
  const holder = startNamespaces(readyFile);
  let ending = false;
  const end = async (why: string) => {
    if (ending) return;
    ending = true;
    console.log(`ending the node: ${why}`);
    holder.kill('SIGKILL');
    for (let i = 0; i < 600 && !removeCgroup(cgroup); i++) await sleep(100);
    rmSync(run.state, { force: true });
    rmSync(readyFile, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void end('SIGTERM'));
  process.on('SIGINT', () => void end('SIGINT'));
  holder.on('exit', () => void end('PID 1 of the node exited'));
  const nodePid = await waitForReady(readyFile, holder);
  const bridge = await loopbackToUnix(join(run.sockets, 'apiserver.sock'));
  const state: SupervisorState = {
    supervisor: process.pid,
    nodePid,
    cgroup,
    apiPort: (bridge.address() as { port: number }).port,
  };
  writeFileSync(run.state, JSON.stringify(state));
  console.log(`node ready: ${JSON.stringify(state)}`);
  if (owner) setInterval(() => isAlive(owner) || void end(`its owner ${owner} is gone`), 1_000);
}

main().catch((err: unknown) => {
  console.error((err as Error).stack);
  process.exit(1);
});
