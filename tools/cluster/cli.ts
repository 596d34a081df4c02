/**
 * npm run cluster -- build     build what is missing: the binaries, then the images (what `up` does first)
 * npm run cluster -- up        build what is missing, start the node, install CoreDNS and Dapr (helm)
 * npm run cluster -- down      end it: processes, mounts, network and cgroups go with it
 * npm run cluster -- status    is one running, and how to reach it
 * Then: kubectl --kubeconfig .cluster/kubeconfig get pods -A
 */
import { parseArgs } from 'node:util';
import { clusterRun } from './layout';
import { buildCluster, ClusterNode, startCluster } from './cluster';

const USAGE = 'usage: npm run cluster -- build | up | down | status';

async function up(): Promise<void> {
  const running = ClusterNode.running();
  if (running) {
    console.log(`[cluster] already running (supervisor pid ${running.state.supervisor})`);
    return;
  }
  await startCluster();
  console.log(`[cluster] up: kubectl --kubeconfig ${clusterRun().kubeconfig} get pods -A`);
}

async function down(): Promise<void> {
  const running = ClusterNode.running();
  if (!running) {
    console.log('[cluster] none running');
    return;
  }
  await running.down();
  console.log('[cluster] down: nothing of it is left running or mounted');
}

function status(): void {
  const running = ClusterNode.running();
  if (!running) console.log('[cluster] none running (`npm run cluster -- up`)');
  else
    console.log(
      `[cluster] running: supervisor pid ${running.state.supervisor}, API server on 127.0.0.1:${running.state.apiPort}, kubeconfig ${clusterRun().kubeconfig}`,
    );
}

async function main(): Promise<void> {
  const { positionals } = parseArgs({ allowPositionals: true, options: {} });
  const commands: Record<string, () => unknown> = { build: buildCluster, up, down, status };
  const command = commands[positionals[0] ?? ''];
  if (!command || positionals.length !== 1) {
    console.error(USAGE);
    process.exit(2);
  }
  await command();
}

main().catch((err: unknown) => {
  console.error(`[cluster] ${(err as Error).message}`);
  process.exit(1);
});
