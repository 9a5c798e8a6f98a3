import type { LbState } from '../model/lb-state.js';
import { endText, type FlowAccumulator, type FlowRecord, type PointHint, type TranslationRecord } from './accumulator.js';

/** An agent's service table among the inputs (`cilium-dbg service list`, `bpf lb list`). */
export interface ServiceTable {
  name: string;
  node?: string;
  state: LbState;
}

/**
 * noteServiceTableTranslations: Cilium's per-packet load balancer DNATs a connection to a Service
 * at the client's lxc, in bpf_lxc's from-container (bpf/lib/lb.h lb4_local -> lb4_xlate), before
 * any other point: the client's own captures (its eth0, and its lxc, whose tcpdump taps the packet
 * before the tc ingress program) hold the frontend, every later point the backend, and the source
 * address and port stay as they were. Without the monitor's DEBUG records (Cilium's default) the
 * agent's service table says which backends a frontend has: a flow to a frontend and a flow from
 * the same source address and port to exactly one of its backends are one connection, translated
 * (a second candidate backend would make it a guess, and then nothing is claimed). The point is
 * the last capture that still saw the frontend: an lxc (`host:NODE/lxc...`), whose tc ingress
 * translated it.
 */
export function noteServiceTableTranslations(acc: FlowAccumulator, tables: readonly ServiceTable[], resolve: (where: PointHint, stream: number) => string): void {
  if (tables.length === 0) return;
  const bySource = new Map<string, FlowRecord[]>();
  for (const flow of acc.flows.values()) {
    const r = flow.ref;
    if (r.srcPort === undefined || r.dstPort === undefined) continue;
    const k = `${r.proto} ${endText(r.src, r.srcPort)}`;
    const list = bySource.get(k);
    if (list) list.push(flow);
    else bySource.set(k, [flow]);
  }
  for (const table of tables) {
    for (const svc of table.state.services) {
      if (svc.backends.length === 0) continue;
      const frontend = endText(svc.frontend.ip, svc.frontend.port);
      for (const flows of bySource.values()) {
        const toFrontend = flows.find((f) => f.ref.dst === svc.frontend.ip && f.ref.dstPort === svc.frontend.port && (svc.frontend.proto === undefined || svc.frontend.proto === f.ref.proto));
        if (!toFrontend) continue;
        const toBackend = flows.filter((f) => svc.backends.some((b) => b.ip === f.ref.dst && b.port === f.ref.dstPort));
        if (toBackend.length !== 1) continue;
        const after = toBackend[0].ref;
        const seenFront = seenPoints(toFrontend, resolve);
        const seenBack = seenPoints(toBackend[0], resolve);
        const tableSays = `the agent's service table (${table.name}${table.node ? ` on ${table.node}` : ''}) lists ${endText(after.dst, after.dstPort)} as a backend of ${frontend}`;
        // Already seen translated (the same packet at two points, pwru, monitor DEBUG): the table confirms it.
        const known = acc.translations.filter((t) => t.kind === 'dnat' && t.before.key === toFrontend.ref.key && t.after.key === after.key);
        for (const t of known) t.evidence += `; ${tableSays}`;
        if (known.length > 0) continue;
        const lxc = seenFront.filter((p) => p.startsWith('host:') && !seenBack.includes(p));
        const point = lxc[lxc.length - 1] ?? `between ${seenFront.join(', ') || '?'} and ${seenBack.join(', ') || '?'}`;
        const record: TranslationRecord = {
          kind: 'dnat',
          before: toFrontend.ref,
          after,
          where: point,
          stream: -1,
          evidence: `${tableSays}; ${endText(toFrontend.ref.src, toFrontend.ref.srcPort)} to ${frontend} was seen at ${seenFront.join(', ')}, and the same source port to ${endText(after.dst, after.dstPort)} at ${seenBack.join(', ')}`,
        };
        if (svc.id !== undefined || svc.revNatId !== undefined) record.revnat = svc.revNatId ?? svc.id;
        acc.translations.push(record);
      }
    }
  }
}

/** The points that saw a flow, resolved, in the order first seen. */
function seenPoints(flow: FlowRecord, resolve: (where: PointHint, stream: number) => string): string[] {
  const out: string[] = [];
  for (const s of flow.evidence.seen.values()) {
    const p = resolve(s.where, s.stream);
    if (!out.includes(p)) out.push(p);
  }
  return out;
}
