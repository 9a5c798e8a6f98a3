import type { ConntrackFact, L4Address, LbState, NatFact, ServiceBackend, ServiceFact } from '../model/lb-state.js';
import { transcriptNoise } from './transcript-noise.js';

/**
 * The agent's load-balancing and translation tables, as saved text (any mix in one file, each
 * block after its prompt):
 * - `cilium service list` / `cilium-dbg service list`: `ID  Frontend  Service Type  Backend`, then
 *   `N  ip:port[/PROTO]  Type  1 => ip:port[/PROTO] (state)` and continuation rows `2 => ...`.
 * - `cilium bpf lb list`: `SERVICE ADDRESS  BACKEND ADDRESS [(REVNAT_ID) (SLOT)]`; a frontend row
 *   (newer: `ip:port/PROTO (0)`) then backend rows; slot 0 (`0.0.0.0:0`, `[::]:0`) carries the
 *   service's revnat id and flags `[ClusterIP, non-routable]` and `(L7LB Proxy Port: N)`. The
 *   oldest layout prints `backend (N)` only.
 * - `cilium bpf ct list global`: `PROTO DIR src -> dst key=value ...`.
 * - `cilium bpf nat list`: `PROTO DIR src -> dst XLATE_SRC|XLATE_DST addr key=value ...`.
 * (cilium pkg/maps/lbmap, ctmap and nat String() methods and cilium-dbg/cmd service_list.go.)
 */
export interface LbStateResult {
  state: LbState;
  unparsed: { line: number; text: string; reason: string }[];
}

const SERVICE_LIST_HEADER = /^ID\s+Frontend\s+Service Type\s+Backend\s*$/;
const LB_LIST_HEADER = /^SERVICE ADDRESS\s+BACKEND ADDRESS(?: \(REVNAT_ID\) \(SLOT\))?\s*$/;
const SERVICE_ROW = /^(\d+)\s+(\S+)\s+(\S+)(?:\s+(.*))?$/;
const SERVICE_BACKEND = /^(\d+) => (\S+?)(?: \((\w+)\))?$/;
const LB_BACKEND = /^(\S+) \((\d+)\)(?: \((\d+)\))?(?: \[([^\]]*)\])?(?: \(L7LB Proxy Port: (\d+)\))?$/;
const LB_FRONTEND = /^(\S+?)(?: \((\d+)\))?$/;
const CT_OR_NAT = /^(TCP|UDP|ICMP|ICMPv6|SCTP|ANY|\d+) (IN|OUT|SVC|SERVICE) (\S+) -> (\S+)(?: (.*))?$/;
const XLATE = /^XLATE_(SRC|DST) (\S+)(?: (.*))?$/;

/** isLbStateLine: a line only these tables print (for detection). */
export function isLbStateLine(line: string): boolean {
  if (SERVICE_LIST_HEADER.test(line) || LB_LIST_HEADER.test(line)) return true;
  const m = CT_OR_NAT.exec(line);
  return m !== null && m[5] !== undefined && (/\bexpires=/.test(m[5]) || m[5].startsWith('XLATE_'));
}

/** `10.0.0.1:80`, `10.0.0.1:80/TCP`, `[fd00::1]:80`, `[fd00::1]:80/UDP`: address, port, protocol. */
export function readL4Address(text: string): (L4Address & { proto?: string }) | undefined {
  let t = text;
  let proto: string | undefined;
  const slash = t.lastIndexOf('/');
  if (slash > 0 && /^[A-Za-z]+$/.test(t.slice(slash + 1))) {
    proto = t.slice(slash + 1).toLowerCase();
    t = t.slice(0, slash);
  }
  const colon = t.lastIndexOf(':');
  if (colon <= 0) return undefined;
  let ip = t.slice(0, colon);
  const port = t.slice(colon + 1);
  if (!/^\d+$/.test(port)) return undefined;
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  else if (ip.includes(':')) return undefined;
  if (!/^[0-9a-fA-F.:]+$/.test(ip)) return undefined;
  const out: L4Address & { proto?: string } = { ip, port: Number(port) };
  if (proto !== undefined) out.proto = proto;
  return out;
}

function isSlotZero(a: L4Address): boolean {
  return a.port === 0 && (a.ip === '0.0.0.0' || a.ip === '::');
}

function fieldsOf(text: string | undefined): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  if (text === undefined || text.trim() === '') return out;
  // Values may be `155sec ago` (Created=) or a bracketed flag list (`Flags=0x0010 [ SeenNonSyn ]`).
  const re = /(\w+)=(\S+(?: ago)?(?: \[[^\]]*\])?)/g;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out[m[1]] = m[2];
    consumed += m[0].length;
  }
  return consumed > 0 || text.trim() === '' ? out : undefined;
}

type Block = 'service-list' | 'lb-list' | undefined;

/** parseLbState reads a whole file of these tables. */
export function parseLbState(lines: readonly string[]): LbStateResult {
  const state: LbState = { services: [], conntrack: [], nat: [] };
  const unparsed: LbStateResult['unparsed'] = [];
  let block: Block;
  let current: ServiceFact | undefined;
  const bad = (i: number, reason: string) => unparsed.push({ line: i + 1, text: lines[i], reason });
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\s+$/, '');
    if (line === '') continue;
    if (SERVICE_LIST_HEADER.test(line)) {
      block = 'service-list';
      current = undefined;
      continue;
    }
    if (LB_LIST_HEADER.test(line)) {
      block = 'lb-list';
      current = undefined;
      continue;
    }
    if (transcriptNoise(line) !== undefined || /^(?:[$>#]|\u276f) /.test(line)) {
      block = undefined;
      current = undefined;
      continue;
    }
    const ct = CT_OR_NAT.exec(line);
    if (ct) {
      const problem = conntrackOrNat(ct, state);
      if (problem) bad(i, problem);
      continue;
    }
    if (block === 'service-list') {
      const problem = serviceListRow(line, state, current, (s) => (current = s));
      if (problem) bad(i, problem);
    } else if (block === 'lb-list') {
      const problem = lbListRow(line, state, current, (s) => (current = s));
      if (problem) bad(i, problem);
    } else bad(i, 'not a service, lb, conntrack or NAT table line');
  }
  return { state, unparsed };
}

function serviceListRow(line: string, state: LbState, current: ServiceFact | undefined, setCurrent: (s: ServiceFact) => void): string | undefined {
  const indented = /^\s/.test(line);
  if (indented) {
    if (!current) return 'a backend row with no service above it';
    const b = serviceBackend(line.trim());
    if (typeof b === 'string') return b;
    current.backends.push(b);
    return undefined;
  }
  const m = SERVICE_ROW.exec(line);
  if (!m) return 'service list row not understood';
  const frontend = readL4Address(m[2]);
  if (!frontend) return `frontend not understood: ${m[2]}`;
  const fact: ServiceFact = { frontend, id: Number(m[1]), type: m[3], backends: [], source: 'service-list' };
  if (m[4] !== undefined && m[4].trim() !== '') {
    const b = serviceBackend(m[4].trim());
    if (typeof b === 'string') return b;
    fact.backends.push(b);
  }
  state.services.push(fact);
  setCurrent(fact);
  return undefined;
}

function serviceBackend(text: string): ServiceBackend | string {
  const m = SERVICE_BACKEND.exec(text);
  if (!m) return `backend not understood: ${text}`;
  const a = readL4Address(m[2]);
  if (!a) return `backend address not understood: ${m[2]}`;
  const b: ServiceBackend = { ip: a.ip, port: a.port };
  if (a.proto) b.proto = a.proto;
  if (m[3]) b.state = m[3];
  return b;
}

function lbListRow(line: string, state: LbState, current: ServiceFact | undefined, setCurrent: (s: ServiceFact) => void): string | undefined {
  let rest = line;
  let svc = current;
  if (!/^\s/.test(line)) {
    // Frontend column, then the first backend after two or more spaces.
    const split = /^(\S+(?: \(\d+\))?)\s{2,}(.*)$/.exec(line);
    const front = LB_FRONTEND.exec(split ? split[1] : line);
    const frontend = front ? readL4Address(front[1]) : undefined;
    if (!frontend) return 'bpf lb list frontend not understood';
    svc = { frontend, backends: [], source: 'bpf-lb-list' };
    state.services.push(svc);
    setCurrent(svc);
    if (!split) return undefined;
    rest = split[2];
  } else if (!svc) return 'a backend row with no service above it';
  const m = LB_BACKEND.exec(rest.trim());
  if (!m) return `bpf lb list backend not understood: ${rest.trim()}`;
  const a = readL4Address(m[1]);
  if (!a) return `backend address not understood: ${m[1]}`;
  const newLayout = m[3] !== undefined;
  if (isSlotZero(a)) {
    // Slot 0: the service itself (its revnat id and flags), no backend.
    if (newLayout) svc!.revNatId = Number(m[2]);
    if (m[4] !== undefined) {
      svc!.flags = m[4].split(',').map((f) => f.trim()).filter((f) => f !== '');
      svc!.type = svc!.flags[0];
    }
    if (m[5] !== undefined) svc!.l7ProxyPort = Number(m[5]);
    return undefined;
  }
  const b: ServiceBackend = { ip: a.ip, port: a.port };
  if (a.proto) b.proto = a.proto;
  if (newLayout) {
    b.revNatId = Number(m[2]);
    b.slot = Number(m[3]);
    svc!.revNatId ??= b.revNatId;
  } else b.weight = Number(m[2]);
  svc!.backends.push(b);
  return undefined;
}

function conntrackOrNat(m: RegExpExecArray, state: LbState): string | undefined {
  const src = readL4Address(m[3]);
  const dst = readL4Address(m[4]);
  if (!src || !dst) return 'conntrack/NAT tuple not understood';
  const proto = m[1].toLowerCase();
  const xlate = m[5] !== undefined ? XLATE.exec(m[5]) : null;
  if (xlate) {
    const to = readL4Address(xlate[2]);
    const fields = fieldsOf(xlate[3]);
    if (!to || !fields) return 'NAT entry not understood';
    const fact: NatFact = { proto, direction: m[2], src, dst, xlate: xlate[1] === 'SRC' ? 'src' : 'dst', to: { ip: to.ip, port: to.port }, fields };
    state.nat.push(fact);
    return undefined;
  }
  const fields = fieldsOf(m[5]);
  if (!fields || fields.expires === undefined) return 'conntrack entry not understood';
  const fact: ConntrackFact = { proto, direction: m[2], src: { ip: src.ip, port: src.port }, dst: { ip: dst.ip, port: dst.port }, fields };
  const revnat = fields.RevNAT;
  if (revnat !== undefined && /^\d+$/.test(revnat) && revnat !== '0') fact.revNatId = Number(revnat);
  if (fields.Flags !== undefined) fact.flags = fields.Flags;
  const id = fields.SourceSecurityID;
  if (id !== undefined && /^\d+$/.test(id)) fact.srcIdentity = Number(id);
  const ifindex = fields.IfIndex;
  if (ifindex !== undefined && /^\d+$/.test(ifindex) && ifindex !== '0') fact.ifindex = Number(ifindex);
  state.conntrack.push(fact);
  return undefined;
}

/** servicesByFrontend: the services a frontend address names (a ClusterIP:port may have one per protocol). */
export function servicesByFrontend(state: LbState, ip: string, port: number): ServiceFact[] {
  return state.services.filter((s) => s.frontend.ip === ip && s.frontend.port === port);
}
