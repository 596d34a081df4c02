/**
 * The one entry to the local cluster, for `npm run cluster` and the tests: builds what is missing (the
 * binaries, then the images), starts the node and installs CoreDNS and Dapr on it.
 */
import { installCoreDns, installDapr } from './addons';
import { ensureClusterBinaries } from './build';
import { ensureImages } from './images';
import { ClusterNode } from './node';

export { ClusterNode } from './node';
export { DAPR_NAMESPACE } from './addons';

export interface StartOptions {
  /** The process whose end ends the cluster (a test run); none: it runs until `npm run cluster -- down`. */
  owner?: number;
}

/** The binaries, then the images built with them: each step a no-op when its inputs did not change. */
export async function buildCluster(): Promise<string[]> {
  await ensureClusterBinaries();
  return (await ensureImages()).map((i) => i.archive);
}

export async function startCluster(options: StartOptions = {}): Promise<ClusterNode> {
  const images = await buildCluster();
  const node = await ClusterNode.up({ owner: options.owner, images });
  try {
    await installCoreDns(node);
    await installDapr();
    return node;
  } catch (err) {
    if (process.env.KEEP_CLUSTER !== '1') await node.down();
    throw err;
  }
}
