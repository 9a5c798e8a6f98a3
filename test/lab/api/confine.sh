#!/bin/sh
# Usage (run by the lab API server inside `ip netns exec <netns>`, whose mount namespace is
# private, and inside the PID namespace the pod's spec gives it: the node's for hostPID, one of
# its own otherwise; for an exec (exec-session.ts) and for the init of each PID namespace
# (node-init.ts, CAPS `all`), so that both see one /run/netns view built by one piece of code):
#   confine.sh STASH_DIR CAPS [NETNS...] -- COMMAND [ARG...]
# Confines the command as the container runtime would its spec: a /proc of its own PID namespace
# (so /proc/1 is the node's init with hostPID, the command itself without), /run/netns holding
# only the named netns (none unless the spec mounts the host's /run/netns: an empty directory of
# the container image otherwise), and only the capabilities CAPS (setpriv's bounding-set list,
# e.g. -all,+net_admin,+net_raw; `all` for a privileged container). Then execs COMMAND with the
# PATH it was given. STASH_DIR is an empty directory the lab owns, briefly mounted over in this
# private mount namespace only.
set -eu
image_path=$PATH
PATH=/usr/sbin:/usr/bin:/sbin:/bin
stash=$1
caps=$2
shift 2
mount -t proc proc /proc
mount --rbind /run/netns "$stash"
mount -t tmpfs -o size=64k,mode=755 dplab-netns /run/netns
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
  : > "/run/netns/$1"
  mount --bind "$stash/$1" "/run/netns/$1"
  shift
done
[ "$#" -gt 0 ] && shift
umount -l "$stash"
PATH=$image_path
export PATH
if [ "$caps" = all ]; then
  exec "$@"
fi
exec /usr/bin/setpriv --inh-caps=-all --ambient-caps=-all --bounding-set="$caps" -- "$@"
