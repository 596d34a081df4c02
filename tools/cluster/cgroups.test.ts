import { cgroupMounts } from './cgroups';

// Lines of /proc/self/mountinfo: fields, then " - ", the file system type, its source and options.
const v1 = [
  '30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755',
  '31 30 0:27 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory',
  '32 30 0:28 / /sys/fs/cgroup/cpu rw,nosuid - cgroup cgroup rw,cpu',
  '33 30 0:29 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw',
  '34 25 0:30 / /proc rw - proc proc rw',
].join('\n');

describe('cgroupMounts', () => {
  it('finds every cgroup hierarchy of a v1 (hybrid) machine, and nothing else', () => {
    expect(cgroupMounts(v1)).toEqual(['/sys/fs/cgroup/memory', '/sys/fs/cgroup/cpu', '/sys/fs/cgroup/unified']);
  });

  it('finds the one hierarchy of a v2 machine', () => {
    expect(cgroupMounts('29 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n')).toEqual([
      '/sys/fs/cgroup',
    ]);
  });
});
