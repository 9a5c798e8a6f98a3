#!/bin/sh
# Usage (run by the lab API server, inside `ip netns exec`, whose mount namespace is private):
#   netns-view.sh STASH_DIR [NETNS...] -- COMMAND [ARG...]
# Makes /run/netns list only the named network namespaces, then execs COMMAND with the PATH it
# was given. On a node that is what a hostNetwork pod with the host's /run/netns sees: the netns of
# that node's pods, not those of other nodes (the lab keeps every node's pods on one machine). With
# no names it is a container's view: no named network namespaces at all. STASH_DIR is an empty
# directory the lab owns, briefly mounted over in this private mount namespace only.
set -eu
image_path=$PATH
PATH=/usr/sbin:/usr/bin:/sbin:/bin
stash=$1
shift
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
exec "$@"
