/**
 * EMULATED `cilium-dbg service list`: the frontends and backends the node's agent loaded into its
 * BPF service maps, read back from the `svc`/`backend` lines of the agent's config (the file
 * lab-agent filled lb4_services, lb4_backends and lb4_reverse_nat from; kernel/bpf/lb_agent.h), so
 * it shows what the datapath has, which can differ from the API. Printed as cilium-dbg/cmd/
 * service_list.go does: tabwriter(minwidth 5, padding 3), one row per frontend sorted by ID,
 * `N => backend (active)` (the state since 1.14), continuation rows for further backends, an empty
 * Backend cell without backends; addresses carry `/TCP` `/UDP` from 1.16 (protocol-differentiated
 * services), as the 1.18 and 1.19 outputs in fixtures/real/cilium-service show.
 */
import { readFileSync } from 'node:fs';
import { labPaths } from '../../kernel/paths.js';
import { tabwrite } from '../go-tabwriter.js';
import type { NodeContext } from '../lab-context.js';
import { atLeast } from './version.js';

interface LoadedFrontend {
  id: number;
  address: string;
  port: number;
  proto: number;
  backends: { slot: number; address: string; port: number }[];
}

const PROTO_NAMES: Record<number, string> = { 6: 'TCP', 17: 'UDP' };

/** The service map contents as the agent loaded them. */
export function loadedFrontends(ctx: NodeContext): LoadedFrontend[] {
  const conf = readFileSync(labPaths(ctx.state.dir).agentConfig(ctx.node.name), 'utf8');
  const byKey = new Map<string, LoadedFrontend>();
  for (const line of conf.split('\n')) {
    const f = line.split(' ');
    if (f[0] === 'svc' && f.length === 6) byKey.set(f.slice(1, 4).join(' '), { id: Number(f[4]), address: f[1], port: Number(f[2]), proto: Number(f[3]), backends: [] });
    else if (f[0] === 'backend' && f.length === 8) byKey.get(f.slice(1, 4).join(' '))?.backends.push({ slot: Number(f[4]), address: f[6], port: Number(f[7]) });
  }
  return [...byKey.values()].sort((a, b) => a.id - b.id);
}

export function serviceList(ctx: NodeContext): string {
  const version = ctx.state.ciliumVersion;
  const withProto = atLeast(version, 1, 16);
  const state = atLeast(version, 1, 14) ? ' (active)' : '';
  const addr = (ip: string, port: number, proto: number): string => `${ip}:${port}${withProto ? `/${PROTO_NAMES[proto] ?? proto}` : ''}`;
  const lines = ['ID\tFrontend\tService Type\tBackend\t'];
  for (const f of loadedFrontends(ctx)) {
    const backends = f.backends.sort((a, b) => a.slot - b.slot).map((b, i) => `${i + 1} => ${addr(b.address, b.port, f.proto)}${state}`);
    const head = `${f.id}\t${addr(f.address, f.port, f.proto)}\tClusterIP\t`;
    if (backends.length === 0) lines.push(`${head}\t`);
    else {
      lines.push(`${head}${backends[0]}\t`);
      for (const b of backends.slice(1)) lines.push(`\t\t\t${b}\t`);
    }
  }
  return tabwrite(lines.join('\n') + '\n', 5, 3);
}
