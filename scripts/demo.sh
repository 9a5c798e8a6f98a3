#!/usr/bin/env bash
# npm run demo: the main job on the embedded default, the lab.
#   as root: install the Debian packages the lab needs (when missing), bring the lab up (BPF host
#   routing, VXLAN between the nodes), show its pods through real kubectl, trace a same-node and a
#   cross-node pair with `kubectl datapath trace`, apply a CiliumNetworkPolicy that drops the
#   cross-node ping, trace it dropped, delete the policy, trace it delivered, then take the lab
#   down again (also on error/Ctrl-C).
#   not root: say why, then analyze the seed captures shipped in test/fixtures/seed instead.
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGES=(tcpdump iproute2 iptables clang llvm libbpf-dev linux-libc-dev gcc-multilib ethtool iputils-ping netcat-openbsd openssl procps)

build() {
  [ -d node_modules ] || npm ci --no-audit --no-fund
  npx tsc -p tsconfig.json
  chmod +x dist/src/cli/main.js
  mkdir -p dist/bin
  ln -sf ../src/cli/main.js dist/bin/kubectl-datapath
  export PATH="$PWD/dist/bin:$PATH"
}

seed_demo() {
  local seed=test/fixtures/seed
  echo "\$ kubectl datapath analyze test/fixtures/seed/..." >&2
  kubectl-datapath analyze \
    "$seed"/tcpdump-same-eth0.txt "$seed"/tcpdump-same-lxc.txt "$seed"/tcpdump-cni-eth0.txt "$seed"/tcpdump-cni-lxc.txt \
    "$seed"/cilium-monitor-v.txt "$seed"/pwru-v0.0.2-src-same.txt "$seed"/pwru-v0.0.2-src-cni.txt \
    "$seed"/cilium-endpoint-list.txt "$seed"/ethtool-same-eth0.txt "$seed"/ethtool-cni-eth0.txt "$@"
}

if [ "$(id -u)" != 0 ]; then
  echo "The lab needs root (network namespaces, tc BPF): run npm run demo as root for the live demo." >&2
  echo "Meanwhile, the offline report of the seed captures:" >&2
  build
  seed_demo "$@"
  exit
fi

missing=()
for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  if command -v apt-get >/dev/null; then
    echo "installing ${missing[*]}" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "The lab needs these packages: ${missing[*]}; install them and run again." >&2
    exit 1
  fi
fi
build

cleanup() { npx tsx test/lab/cli.ts down >/dev/null 2>&1 || true; }
trap cleanup EXIT
npx tsx test/lab/cli.ts up --mode bpf --tunnel vxlan
export KUBECONFIG="$PWD/.lab/kubeconfig"
KUBECACHEDIR="$(mktemp -d)"
export KUBECACHEDIR

echo "\$ kubectl get pods -A -o wide" >&2
kubectl get pods -A -o wide
if kubectl-datapath --help | grep -q '^  trace '; then
  echo "\$ kubectl datapath trace same cni-6vf5d --count 1     # same node (bpf1)" >&2
  kubectl datapath trace same cni-6vf5d --count 1 "$@" || true
  echo "\$ kubectl datapath trace same cni-x7k2m --count 1     # bpf1 -> bpf2 over VXLAN" >&2
  kubectl datapath trace same cni-x7k2m --count 1 "$@" || true
  # A Service: per-packet load balancing at same's lxc, the reply translated back on bpf1.
  echo "\$ kubectl get svc web" >&2
  kubectl get svc web
  echo "\$ kubectl datapath trace same svc/web --count 1     # tcp:80 to the ClusterIP, DNAT to web on bpf2" >&2
  kubectl datapath trace same svc/web --count 1 "$@" || true
  # One policy drop and its fix: the emulated agent loads a policy change into the BPF maps within a second.
  echo "\$ kubectl apply -f test/lab/policies/ingress-default-deny-cni.yaml     # cni pods: default deny at ingress" >&2
  kubectl apply -f test/lab/policies/ingress-default-deny-cni.yaml
  sleep 1
  echo "\$ kubectl datapath trace same cni-x7k2m --count 1     # dropped by the policy at cni-x7k2m's ingress" >&2
  kubectl datapath trace same cni-x7k2m --count 1 "$@" || true
  echo "\$ kubectl delete -f test/lab/policies/ingress-default-deny-cni.yaml     # the fix" >&2
  kubectl delete -f test/lab/policies/ingress-default-deny-cni.yaml
  sleep 1
  echo "\$ kubectl datapath trace same cni-x7k2m --count 1     # delivered again" >&2
  kubectl datapath trace same cni-x7k2m --count 1 "$@" || true
else
  echo "(this build has no trace command yet: showing the offline report of the seed captures)" >&2
  seed_demo "$@"
fi
