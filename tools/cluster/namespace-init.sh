#!/usr/bin/env bash
# PID 1 of the cluster node's namespaces (started by ./supervisor.ts through `unshare`): a network, mount
# and PID namespace of its own. Every daemon of the node joins them (nsenter), so killing this process
# kills them all, and the kernel drops the mounts and network devices below with the namespaces.
# $1: the file to create once the namespaces are ready; $2: the node address (a /24).
set -euo pipefail

# The paths containerd, the kubelet, the CNI plugins and iptables hard-code: private and in memory.
for dir in /run /var/lib /var/log; do mount -t tmpfs -o mode=0755 cluster-node "$dir"; done

# The node's address on a veth pair whose both ends stay in here, and a default route, which the
# kubelet and kube-proxy need to pick the node address; nothing is connected to the machine's network.
ip link set lo up
ip link add eth0 type veth peer name eth0-peer
ip address add "$2/24" dev eth0
ip link set eth0 up
ip link set eth0-peer up
ip route add default dev eth0
echo 1 >/proc/sys/net/ipv4/ip_forward

touch "$1"
# Reaps the daemons' orphans (containerd's shims re-parent to PID 1) until the supervisor kills it.
while :; do
  sleep 3600 &
  wait || true
done
