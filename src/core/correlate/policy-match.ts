import { SELECTOR_NOTE, type LabelRequirement, type PolicyPeerRule, type PolicyRuleFact } from '../model/policy.js';
import { RESERVED_IDENTITIES } from '../parse/hubble-fields.js';

/** Reserved identities by number (pkg/identity/numericidentity.go), 0 (unknown) aside. */
export const RESERVED_IDENTITY_NAMES: Readonly<Record<number, string>> = RESERVED_IDENTITIES;

/**
 * How Cilium decides a packet against the policies that select an endpoint (pkg/policy:
 * repository.go, rule.go; docs "Policy Enforcement Modes", "Layer 3 / Layer 4 examples"):
 * an endpoint selected by any rule in a direction is default-deny in that direction; the allow
 * sections of all selecting rules are a union; a matching deny section wins over any allow.
 * Each answer is yes, no, or unknown (the evidence lacks the labels, or the rule uses what this
 * tool does not evaluate), never a guess.
 */
export type Tri = 'yes' | 'no' | 'unknown';

/** The far end of the packet as policy sees it: its identity, labels when known, address and port. */
export interface PolicyPeer {
  identity?: number;
  /** `source:key=value` labels of the identity; undefined when nothing says them. */
  labels?: string[];
  ip?: string;
}

export interface PolicyPacket {
  /** tcp, udp, sctp, icmp, ... as the flow names it. */
  protocol: string;
  /** Destination port (what toPorts matches), absent for ICMP. */
  port?: number;
}


/** Identities from 2^24 are node-local: CIDR and FQDN identities, outside the cluster (pkg/identity IdentityScopeLocal). */
const LOCAL_SCOPE = 1 << 24;

/** The labels an identity's number alone tells (reserved identities); undefined for the others. */
export function reservedLabels(identity: number | undefined): string[] | undefined {
  const name = identity ? RESERVED_IDENTITY_NAMES[identity] : undefined;
  return name ? [`reserved:${name}`] : undefined;
}

interface Label {
  source: string;
  key: string;
  value: string;
}

/** `k8s:app=web` -> {k8s, app, web}; `reserved:world` -> {reserved, world, ''}; a key without a source is `any`. */
function parseLabel(text: string): Label {
  const eq = text.indexOf('=');
  const keyPart = eq < 0 ? text : text.slice(0, eq);
  const value = eq < 0 ? '' : text.slice(eq + 1);
  const { source, key } = splitSource(keyPart);
  return { source, key, value };
}

function splitSource(keyPart: string): { source: string; key: string } {
  const colon = keyPart.indexOf(':');
  return colon < 0 ? { source: 'any', key: keyPart } : { source: keyPart.slice(0, colon), key: keyPart.slice(colon + 1) };
}

/**
 * selectorMatches: every matchLabels entry is among the labels (source `any` matches every
 * source), and every matchExpressions requirement holds (metav1 semantics: NotIn and DoesNotExist
 * hold where the key is absent).
 */
export function selectorMatches(selector: Record<string, string>, labels: readonly string[] | undefined, expressions: readonly LabelRequirement[] = []): Tri {
  const wanted = Object.entries(selector);
  if (wanted.length === 0 && expressions.length === 0) return 'yes';
  if (!labels) return 'unknown';
  const have = labels.map(parseLabel);
  const valuesOf = (key: string) => {
    const want = splitSource(key);
    return have.filter((l) => l.key === want.key && (want.source === 'any' || l.source === want.source)).map((l) => l.value);
  };
  for (const [k, v] of wanted) if (!valuesOf(k).includes(v)) return 'no';
  let unsure = false;
  for (const e of expressions) {
    const values = valuesOf(e.key);
    switch (e.operator) {
      case 'In':
        if (!values.some((x) => e.values.includes(x))) return 'no';
        break;
      case 'NotIn':
        if (values.some((x) => e.values.includes(x))) return 'no';
        break;
      case 'Exists':
        if (!values.length) return 'no';
        break;
      case 'DoesNotExist':
        if (values.length) return 'no';
        break;
      default:
        unsure = true;
    }
  }
  return unsure ? 'unknown' : 'yes';
}

/** world, world-ipv4, world-ipv6, and the node-local CIDR/FQDN identities. */
function isWorld(id: number): boolean {
  return id === 2 || id === 9 || id === 10 || id >= LOCAL_SCOPE;
}

/** Entities (api/v1 EntitySelectorMapping): which identities each one names. */
function entityMatches(entity: string, peer: PolicyPeer): Tri {
  const id = peer.identity;
  if (entity === 'all') return 'yes';
  if (id === undefined) return 'unknown';
  const reserved = RESERVED_IDENTITY_NAMES[id];
  switch (entity) {
    case 'world':
      return isWorld(id) ? 'yes' : 'no';
    case 'cluster':
      return isWorld(id) ? 'no' : 'yes';
    case 'host':
    case 'remote-node':
    case 'kube-apiserver':
    case 'health':
    case 'init':
    case 'ingress':
    case 'unmanaged':
      return reserved === entity ? 'yes' : peer.labels?.includes(`reserved:${entity}`) ? 'yes' : 'no';
    default:
      return 'unknown';
  }
}

/** Parses an IPv4 or IPv6 address to its bits as a bigint and its width; undefined when not an address. */
function addressBits(ip: string): { bits: bigint; width: number } | undefined {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) {
    const parts = ip.split('.').map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return { bits: BigInt(((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3]), width: 32 };
  }
  if (!ip.includes(':') || !/^[0-9a-fA-F:.]+$/.test(ip)) return undefined;
  const halves = ip.split('::');
  if (halves.length > 2) return undefined;
  const group = (s: string) => (s === '' ? [] : s.split(':'));
  const head = group(halves[0]);
  const tail = halves.length === 2 ? group(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  const groups = [...head, ...Array(missing).fill('0'), ...tail];
  let bits = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    bits = (bits << 16n) | BigInt(parseInt(g, 16));
  }
  return { bits, width: 128 };
}

/** cidrContains: whether `ip` is inside `cidr` (`10.0.0.0/8`, `fd00::/64`, a bare address = /32 or /128). */
export function cidrContains(cidr: string, ip: string): Tri {
  const slash = cidr.indexOf('/');
  const net = addressBits(slash < 0 ? cidr : cidr.slice(0, slash));
  const addr = addressBits(ip);
  if (!net || !addr) return 'unknown';
  if (net.width !== addr.width) return 'no';
  const len = slash < 0 ? net.width : Number(cidr.slice(slash + 1));
  if (!Number.isInteger(len) || len < 0 || len > net.width) return 'unknown';
  const shift = BigInt(net.width - len);
  return net.bits >> shift === addr.bits >> shift ? 'yes' : 'no';
}

function any(values: Tri[]): Tri {
  if (values.includes('yes')) return 'yes';
  return values.includes('unknown') ? 'unknown' : 'no';
}

function all(values: Tri[]): Tri {
  if (values.includes('no')) return 'no';
  return values.includes('unknown') ? 'unknown' : 'yes';
}

/** Whether a section's peers include this peer. A section naming no peer covers every peer only when it names ports (L4-only). */
function peerMatches(section: PolicyPeerRule, peer: PolicyPeer): Tri {
  const named = section.endpoints.length + section.cidrs.length + section.entities.length + section.fqdns.length;
  if (named === 0) return section.ports.length > 0 ? 'yes' : 'no';
  const out: Tri[] = [];
  section.endpoints.forEach((sel, i) => out.push(selectorMatches(sel, peer.labels ?? reservedLabels(peer.identity), section.endpointExpressions?.[i])));
  for (const cidr of section.cidrs) {
    if (!peer.ip) {
      out.push('unknown');
      continue;
    }
    const inside = cidrContains(cidr, peer.ip);
    const excepted = any((section.cidrExcept ?? []).map((e) => cidrContains(e, peer.ip!)));
    out.push(inside === 'yes' && excepted !== 'no' ? (excepted === 'yes' ? 'no' : 'unknown') : inside);
  }
  for (const e of section.entities) out.push(entityMatches(e, peer));
  // toFQDNs allow the addresses DNS answered for the names: only the DNS proxy's cache knows them.
  if (section.fqdns.length) out.push('unknown');
  return any(out);
}

/** Whether a section's ports include this packet's (no ports: every port). Port `0` is every port (api/v1 PortProtocol). */
function portMatches(section: PolicyPeerRule, packet: PolicyPacket): Tri {
  if (section.ports.length === 0) return 'yes';
  const proto = packet.protocol.toUpperCase();
  return any(
    section.ports.map((p) => {
      const pp = p.protocol.toUpperCase();
      if (pp !== 'ANY' && pp !== proto) return 'no';
      if (p.port === '0' || p.port === '') return 'yes';
      if (!/^\d+(?:-\d+)?$/.test(p.port)) return 'unknown'; // a named port: the pod spec decides
      if (packet.port === undefined) return 'no';
      const [lo, hi] = p.port.split('-').map(Number);
      return packet.port >= lo && packet.port <= (hi ?? lo) ? 'yes' : 'no';
    }),
  );
}

/** sectionMatches: this allow or deny section covers the packet from (or to) this peer. */
export function sectionMatches(section: PolicyPeerRule, peer: PolicyPeer, packet: PolicyPacket): Tri {
  // What this tool does not evaluate (matchExpressions, toServices, ICMP rules) may add or remove
  // peers: only a port that does not match says no for sure.
  const port = portMatches(section, packet);
  if (port === 'no') return 'no';
  if (section.unsupported?.length) return 'unknown';
  return all([peerMatches(section, peer), port]);
}

/** Whether a rule selects the endpoint (with these labels) in this direction. */
export function ruleSelects(rule: PolicyRuleFact, direction: 'ingress' | 'egress', endpointLabels: readonly string[] | undefined): Tri {
  const has = rule.directions
    ? rule.directions.includes(direction)
    : direction === 'ingress'
      ? rule.ingress.length + rule.ingressDeny.length > 0
      : rule.egress.length + rule.egressDeny.length > 0;
  if (!has) return 'no';
  const m = selectorMatches(rule.selector, endpointLabels, rule.selectorExpressions);
  // A namespace the object lacks narrows what its selector selects to where kubectl applied it.
  return m === 'yes' && rule.unsupported?.some((u) => u.startsWith(SELECTOR_NOTE)) ? 'unknown' : m;
}

/** A rule's name as a user knows it: `CiliumNetworkPolicy default/allow-web`. */
export function ruleName(rule: PolicyRuleFact): string {
  const name = rule.name ? `${rule.namespace ? `${rule.namespace}/` : ''}${rule.name}` : rule.labels.join(',') || '(a rule without a name)';
  return `${rule.kind ?? 'policy'} ${name}`;
}
