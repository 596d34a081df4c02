import { readFileSync } from 'node:fs';
import { ManagedProcess } from '../stack/process';

/** A command line: what to run and its arguments. */
export interface Command {
  command: string;
  args: string[];
}

/**
 * The private file system view of one process (what a kubelet gives a container, as far as the Dapr
 * control plane needs it): a tmpfs on /var/run holding a copy of `varRun` (e.g. its
 * secrets/dapr.io/sentrytoken/token), `hosts` as /etc/hosts, an empty tmpfs on each of `emptyDirs`.
 */
export interface PrivateFiles {
  varRun: string;
  hosts: string;
  emptyDirs: string[];
}

/**
 * Where the control plane's processes run. On the host: plain processes on 127.0.0.1. In a
 * NamespaceSandbox: a private network namespace that has only its own loopback interface.
 */
export interface Sandbox {
  /** The command line that runs `cmd` there and dies with this Node process, even when it is killed. */
  daemon(cmd: Command): Command;
  /** The same, in a private mount namespace with those files, as the non-root `uid` (see NamespaceSandbox). */
  isolated(cmd: Command, files: PrivateFiles, uid: number): Command;
  /** The command line that runs a short-lived client (kubectl) where it can reach the control plane. */
  client(cmd: Command): Command;
  stop(): Promise<void>;
}

/**
 * `setpriv --pdeathsig KILL`: the kernel kills the process when its parent (this Node process) dies,
 * whatever the cause (a killed test run included), so nothing is left running. Linux only; elsewhere
 * the exit hook of ManagedProcess is all there is.
 */
function diesWithParent(cmd: Command): Command {
  if (process.platform !== 'linux') return cmd;
  return { command: 'setpriv', args: ['--pdeathsig', 'KILL', '--', cmd.command, ...cmd.args] };
}

export class HostSandbox implements Sandbox {
  daemon(cmd: Command): Command {
    return diesWithParent(cmd);
  }

  isolated(): Command {
    throw new Error('processes with their own mount namespace need a NamespaceSandbox');
  }

  client(cmd: Command): Command {
    return cmd;
  }

  async stop(): Promise<void> {
    // Nothing of its own to stop.
  }
}

/**
 * A private network namespace owned by an unprivileged user namespace (`unshare --user --map-root-user
 * --net`), so a non-root user can create it. Dapr 1.18.3's sentry, injector and operator bind their
 * healthz servers, and the injector its webhook server, on every interface whatever --listen-address
 * says; in here "every interface" is this namespace's loopback alone, and fixed ports cannot collide
 * with anything on the machine. A holder process (sleep) keeps the namespaces alive; every process of
 * the control plane and every client joins them with nsenter.
 */
export class NamespaceSandbox implements Sandbox {
  private constructor(private readonly holder: ManagedProcess) {}

  static async create(logFile: string, env: NodeJS.ProcessEnv): Promise<NamespaceSandbox> {
    const holder = new ManagedProcess({
      name: 'netns',
      // Unprivileged ports start at 0 in there: the Dapr processes run as a non-root user and one of them
      // stands in for a Service on port 443.
      ...diesWithParent({
        command: 'unshare',
        args: [
          '--user',
          '--map-root-user',
          '--net',
          '--',
          'sh',
          '-c',
          'ip link set lo up && echo 0 > /proc/sys/net/ipv4/ip_unprivileged_port_start && exec sleep infinity',
        ],
      }),
      cwd: '/',
      env,
      logFile,
    });
    holder.start();
    await waitForExec(holder, 'sleep', logFile);
    return new NamespaceSandbox(holder);
  }

  /** nsenter into the holder's user and network namespaces, keeping this user's id (root in there). */
  private enter(cmd: Command): Command {
    return {
      command: 'nsenter',
      args: [
        `--target=${this.holder.pid}`,
        '--user',
        '--net',
        '--preserve-credentials',
        '--',
        cmd.command,
        ...cmd.args,
      ],
    };
  }

  daemon(cmd: Command): Command {
    return this.enter(diesWithParent(cmd));
  }

  /**
   * A private mount namespace (`unshare --mount`, propagation private: the host never sees its mounts)
   * set up as `files` says; then a nested user namespace that maps `uid` to this user, because Dapr's
   * control plane refuses to run as root in Kubernetes mode. Files this user owns are `uid`'s in there.
   */
  isolated(cmd: Command, files: PrivateFiles, uid: number): Command {
    const script = [
      'set -e',
      'var_run=$1 hosts=$2 program=$3',
      'shift 3',
      // The program is run from a descriptor opened before the mounts: an emptyDir (the operator's /tmp)
      // may hide the folder it lives in, as it does for a clone under /tmp.
      'exec 9<"$program"',
      // /var/run is a symlink to /run on most systems: mount follows it.
      'mount -t tmpfs -o size=4m,mode=0755 tmpfs /var/run',
      'cp -R "$var_run"/. /var/run/',
      'mount --bind "$hosts" /etc/hosts',
      'while [ "$1" != -- ]; do mount -t tmpfs -o size=64m tmpfs "$1"; shift; done',
      'shift',
      `exec unshare --user --map-user=${uid} --map-group=${uid} -- "$@"`,
    ].join('\n');
    const inner = diesWithParent({ ...cmd, command: '/proc/self/fd/9' });
    return this.enter({
      command: 'unshare',
      args: [
        '--mount',
        '--propagation',
        'private',
        '--',
        'sh',
        '-c',
        script,
        'sh',
        files.varRun,
        files.hosts,
        cmd.command,
        ...files.emptyDirs,
        '--',
        inner.command,
        ...inner.args,
      ],
    });
  }

  client(cmd: Command): Command {
    return this.enter(cmd);
  }

  async stop(): Promise<void> {
    await this.holder.stop(2_000);
  }
}

/** Waits until `p` has exec'd `name` (its setup done), or fails with its log when it exits first. */
async function waitForExec(p: ManagedProcess, name: string, logFile: string): Promise<void> {
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    if (!p.running) {
      await p.exited();
      throw new Error(
        `cannot create a private network namespace (unshare --user --map-root-user --net): ${readLog(logFile)}\n` +
          'The Dapr control plane of the manifest tests runs in one, without root, through an unprivileged user namespace. Allow those: ' +
          '`sysctl kernel.unprivileged_userns_clone=1` (older Debian kernels), `sysctl kernel.apparmor_restrict_unprivileged_userns=0` (Ubuntu 23.10 and later); ' +
          'in a container, one whose seccomp profile allows unshare (e.g. docker run --security-opt seccomp=unconfined). ' +
          'Also needed: util-linux (unshare, nsenter, setpriv) and iproute2 (ip).',
      );
    }
    const comm = readComm(p.pid);
    if (comm === name) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the network namespace holder did not start within 10 s: ${readLog(logFile)}`);
}

function readComm(pid: number | undefined): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim() || '(no output)';
  } catch {
    return '(no output)';
  }
}
