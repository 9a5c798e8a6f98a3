#!/usr/bin/env bash
# npm run demo: the main job on the embedded default. Builds the plugin, then analyzes the seed
# captures shipped in test/fixtures/seed (a real same-node ping on Cilium 1.11 with BPF host
# routing: tcpdump in both pods and on both lxcs, cilium monitor -v, pwru, the endpoint list).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
npx tsc -p tsconfig.json
seed=test/fixtures/seed
echo "\$ kubectl datapath analyze test/fixtures/seed/{tcpdump-*,cilium-monitor-v,pwru-v0.0.2-src-*,cilium-endpoint-list,ethtool-*}.txt" >&2
node dist/src/cli/main.js analyze \
  "$seed"/tcpdump-same-eth0.txt "$seed"/tcpdump-same-lxc.txt "$seed"/tcpdump-cni-eth0.txt "$seed"/tcpdump-cni-lxc.txt \
  "$seed"/cilium-monitor-v.txt "$seed"/pwru-v0.0.2-src-same.txt "$seed"/pwru-v0.0.2-src-cni.txt \
  "$seed"/cilium-endpoint-list.txt "$seed"/ethtool-same-eth0.txt "$seed"/ethtool-cni-eth0.txt "$@"
