/**
 * Container logs. Agent pods answer with a few lines in the Cilium agent's logfmt (labelled as the
 * lab's emulation); every other lab container has printed nothing.
 */
import type { LabState } from '../state.js';

export interface LogLine {
  at: Date;
  text: string;
}

/** Start-up lines of an emulated Cilium agent on a node, stamped from the lab's creation time. */
export function agentLog(state: LabState, node: string): LogLine[] {
  const start = Date.parse(state.createdAt);
  const hostRouting = state.mode === 'bpf' ? 'BPF' : 'Legacy';
  const routing = state.tunnel === 'vxlan' ? 'Tunnel [vxlan]' : 'Native';
  const entries: [number, string][] = [
    [0, `level=info msg="Emulated Cilium agent of the datapath lab on node ${node}: these lines do not come from a real agent" subsys=lab`],
    [12, `level=info msg="Cilium ${state.ciliumVersion} go version go1.22.10 linux/amd64" subsys=daemon`],
    [40, 'level=info msg="Initializing daemon" subsys=daemon'],
    [310, `level=info msg="Datapath routing: network ${routing}, host ${hostRouting}" subsys=daemon`],
    [1450, 'level=info msg="Datapath signal listener running" subsys=signal'],
    [2100, 'level=info msg="Serving cilium health API at unix:///var/run/cilium/health.sock" subsys=health-server'],
    [2230, 'level=info msg="Daemon initialization completed" bootstrapTime=2.23s subsys=daemon'],
  ];
  return entries.map(([offset, rest]) => {
    const at = new Date(start + offset);
    return { at, text: `time="${at.toISOString().replace(/\.\d{3}Z$/, 'Z')}" ${rest}` };
  });
}

/** The response body for the given options: tailLines keeps the last N, timestamps prefixes RFC 3339. */
export function formatLog(lines: LogLine[], options: { tailLines?: number; timestamps: boolean }): string {
  const kept = options.tailLines === undefined ? lines : options.tailLines <= 0 ? [] : lines.slice(-options.tailLines);
  return kept.map((l) => (options.timestamps ? `${l.at.toISOString().replace('Z', '000000Z')} ${l.text}\n` : `${l.text}\n`)).join('');
}
