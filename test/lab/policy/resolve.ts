/**
 * The emulated Cilium agent's policy computation (EMULATED: the real one is pkg/policy): from the
 * policy objects of the API (CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, NetworkPolicy)
 * and the identities of the cluster, each endpoint's policy map, as Cilium computes it:
 *
 * - an endpoint selected by any rule with an ingress (egress) section, allow or deny, enforces
 *   policy in that direction: default deny, only what the map holds passes (pkg/policy
 *   repository.go computePolicyEnforcementAndRules); a direction nobody selects gets the
 *   allow-all entry (identity 0, any protocol, any port);
 * - allow rules are a union: one entry per selected remote identity (0 = any, for rules without
 *   peers) x port/protocol (none = any), L3-only when the rule has no toPorts;
 * - deny wins (pkg/policy/mapstate.go denyPreferredInsert): an allow entry that a deny entry
 *   covers (same or any identity, same or wider protocol/port) becomes that deny.
 *
 * Selection follows Cilium's translation (pkg/k8s/apis/cilium.io/utils, pkg/k8s/network_policy.go):
 * a namespaced policy selects endpoints of its namespace only, and its peer selectors that name no
 * namespace select peers of its namespace only; NetworkPolicy's namespaceSelector matches the
 * namespace's labels; CIDR peers (fromCIDR/toCIDR/CIDRSet/ipBlock) select CIDR identities the
 * agent allocates from 16777217 for every prefix a policy names (never a pod's identity), and
 * the world identity for 0.0.0.0/0.
 *
 * Pure: objects in, the resolved state out. Unknown fields are ignored, as far as the lab goes.
 */

export interface PolicyObject {
  kind: 'CiliumNetworkPolicy' | 'CiliumClusterwideNetworkPolicy' | 'NetworkPolicy';
  namespace?: string;
  name: string;
  uid?: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  spec?: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  specs?: any[];
}

export interface PolicyEndpoint {
  node: string;
  epId: number;
  identity: number;
  namespace: string;
  name: string;
  ip: string;
  labels: Record<string, string>;
}

/** One rule of one policy, numbered (the cookie the BPF entries carry). */
export interface ResolvedRule {
  cookie: number;
  policy: { kind: PolicyObject['kind']; namespace?: string; name: string };
  direction: 'ingress' | 'egress';
  deny: boolean;
  /** Index of the rule in its section (spec.ingress[i], spec.egressDeny[i], ...), and of the spec in `specs`. */
  index: number;
  specIndex: number;
}

export interface PolicyEntry {
  identity: number;
  direction: 'ingress' | 'egress';
  /** 0 = any protocol. */
  proto: number;
  /** 0 = any port. */
  port: number;
  deny: boolean;
  cookie: number;
}

export interface EndpointPolicy {
  node: string;
  epId: number;
  identity: number;
  namespace: string;
  name: string;
  ingressEnforced: boolean;
  egressEnforced: boolean;
  /** Cookies of the rules that select this endpoint, per direction. */
  ingressRules: number[];
  egressRules: number[];
  entries: PolicyEntry[];
}

export interface CidrIdentity {
  prefix: string;
  identity: number;
}

/** A peer selector and the identities it selects (`cilium-dbg policy selectors`). */
export interface SelectorUse {
  selector: string;
  identities: number[];
  users: number;
}

export interface ResolvedPolicy {
  rules: ResolvedRule[];
  endpoints: EndpointPolicy[];
  cidrIdentities: CidrIdentity[];
  selectors: SelectorUse[];
}

export const ID_WORLD = 2;
export const FIRST_CIDR_IDENTITY = 16777217;
const PROTOCOLS: Record<string, number> = { TCP: 6, UDP: 17, SCTP: 132, ICMP: 1 };

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Identity labels as Cilium derives them for a pod (pkg/k8s/utils, source k8s). */
function identityLabels(ep: PolicyEndpoint, namespaceLabels: Record<string, Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = { ...ep.labels, 'io.kubernetes.pod.namespace': ep.namespace };
  for (const [k, v] of Object.entries(namespaceLabels[ep.namespace] ?? { 'kubernetes.io/metadata.name': ep.namespace })) {
    out[`io.cilium.k8s.namespace.labels.${k}`] = v;
  }
  return out;
}

/** A selector key without Cilium's label source prefix (`k8s:app` and `any:app` match `app`). */
function bareKey(key: string): string {
  return key.replace(/^(k8s|any):/, '');
}

function matches(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) if (labels[bareKey(k)] !== String(v)) return false;
  for (const e of selector?.matchExpressions ?? []) {
    const value = labels[bareKey(e.key)];
    const values = (e.values ?? []).map(String);
    const ok =
      e.operator === 'In' ? value !== undefined && values.includes(value)
      : e.operator === 'NotIn' ? value === undefined || !values.includes(value)
      : e.operator === 'Exists' ? value !== undefined
      : e.operator === 'DoesNotExist' ? value === undefined
      : false;
    if (!ok) return false;
  }
  return true;
}

function namesNamespace(selector: LabelSelector | undefined): boolean {
  const keys = [...Object.keys(selector?.matchLabels ?? {}), ...(selector?.matchExpressions ?? []).map((e) => e.key)];
  return keys.some((k) => bareKey(k) === 'io.kubernetes.pod.namespace');
}

/** A peer selector as `cilium-dbg policy selectors` prints it (the k8s LabelSelector's String(), keys with their source as `any.`/`k8s.`). */
function selectorText(selector: LabelSelector | undefined, namespace: string | undefined): string {
  const key = (k: string): string => (k.includes(':') ? k : `any:${k}`).replace(':', '.');
  const labels = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => [key(k), String(v)]);
  if (namespace !== undefined && !namesNamespace(selector)) labels.push(['k8s.io.kubernetes.pod.namespace', namespace]);
  const exprs = (selector?.matchExpressions ?? []).map((e) => `LabelSelectorRequirement{Key:${key(e.key)},Operator:${e.operator},Values:[${(e.values ?? []).join(' ')}],}`);
  const ml = labels.sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}: ${v},`).join('');
  return `&LabelSelector{MatchLabels:map[string]string{${ml}},MatchExpressions:[]LabelSelectorRequirement{${exprs.join(',')}},}`;
}

/** IPv4 prefix as [network, length]; undefined when not an IPv4 CIDR (or address). */
function parseCidr(cidr: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?$/.exec(String(cidr).trim());
  if (!m) return undefined;
  const len = m[5] === undefined ? 32 : Number(m[5]);
  if (len > 32 || m.slice(1, 5).some((o) => Number(o) > 255)) return undefined;
  const addr = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return [(addr & mask) >>> 0, len];
}

function within(inner: [number, number], outer: [number, number]): boolean {
  if (inner[1] < outer[1]) return false;
  const mask = outer[1] === 0 ? 0 : (0xffffffff << (32 - outer[1])) >>> 0;
  return ((inner[0] & mask) >>> 0) === outer[0];
}

function canonical(c: [number, number]): string {
  return `${c[0] >>> 24}.${(c[0] >>> 16) & 255}.${(c[0] >>> 8) & 255}.${c[0] & 255}/${c[1]}`;
}

/** A rule's peers, normalised: endpoint selectors (with the namespace they are confined to) and CIDR sets. */
interface Peers {
  /** undefined: the rule names no peer (any identity). */
  endpoints?: { selector: LabelSelector; namespace?: string; namespaceSelector?: LabelSelector }[];
  cidrs?: { cidr: string; except: string[] }[];
  /** fromEntities/toEntities `all` or `world`. */
  entities?: string[];
}

interface PortSpec {
  proto: number;
  port: number;
}

interface NormalRule {
  direction: 'ingress' | 'egress';
  deny: boolean;
  index: number;
  specIndex: number;
  peers: Peers;
  /** undefined: any port and protocol (L3-only). */
  ports?: PortSpec[];
}

interface NormalPolicy {
  object: PolicyObject;
  subjects: { selector: LabelSelector; namespace?: string }[];
  /** Directions this policy enforces on what it selects, even with no rule that allows anything. */
  enforces: { ingress: boolean; egress: boolean };
  rules: NormalRule[];
}

function ciliumPorts(toPorts: unknown): PortSpec[] | undefined {
  if (!Array.isArray(toPorts) || toPorts.length === 0) return undefined;
  const out: PortSpec[] = [];
  for (const pr of toPorts as { ports?: { port?: string | number; protocol?: string }[] }[]) {
    for (const p of pr.ports ?? []) {
      const protocol = String(p.protocol ?? 'ANY').toUpperCase();
      const port = Number(p.port ?? 0) || 0;
      if (protocol === 'ANY') for (const proto of [6, 17, 132]) out.push({ proto, port });
      else if (PROTOCOLS[protocol] !== undefined) out.push({ proto: PROTOCOLS[protocol], port });
    }
  }
  return out;
}

function ciliumPeers(rule: Record<string, unknown>, from: 'from' | 'to', namespace: string | undefined): Peers {
  const peers: Peers = {};
  const eps = rule[`${from}Endpoints`] as LabelSelector[] | undefined;
  if (Array.isArray(eps)) peers.endpoints = eps.map((s) => ({ selector: s ?? {}, namespace: namesNamespace(s) ? undefined : namespace }));
  const cidrs: { cidr: string; except: string[] }[] = [];
  for (const c of (rule[`${from}CIDR`] as string[] | undefined) ?? []) cidrs.push({ cidr: c, except: [] });
  for (const c of (rule[`${from}CIDRSet`] as { cidr?: string; except?: string[] }[] | undefined) ?? []) if (c.cidr) cidrs.push({ cidr: c.cidr, except: c.except ?? [] });
  if (cidrs.length > 0) peers.cidrs = cidrs;
  const entities = rule[`${from}Entities`] as string[] | undefined;
  if (Array.isArray(entities)) peers.entities = entities;
  return peers;
}

function hasPeers(p: Peers): boolean {
  return p.endpoints !== undefined || p.cidrs !== undefined || p.entities !== undefined;
}

function normaliseCilium(object: PolicyObject): NormalPolicy[] {
  const namespace = object.kind === 'CiliumNetworkPolicy' ? object.namespace : undefined;
  const specs = [...(object.spec ? [object.spec] : []), ...(object.specs ?? [])];
  return specs.map((spec, specIndex) => {
    const rules: NormalRule[] = [];
    const sections: [string, 'ingress' | 'egress', boolean, 'from' | 'to'][] = [
      ['ingress', 'ingress', false, 'from'], ['ingressDeny', 'ingress', true, 'from'],
      ['egress', 'egress', false, 'to'], ['egressDeny', 'egress', true, 'to'],
    ];
    const enforces = { ingress: false, egress: false };
    for (const [field, direction, deny, from] of sections) {
      const list = spec?.[field];
      if (!Array.isArray(list)) continue;
      enforces[direction] = true;
      list.forEach((rule: Record<string, unknown>, index: number) => {
        const peers = ciliumPeers(rule ?? {}, from, namespace);
        const ports = ciliumPorts(rule?.toPorts);
        // An empty rule selects nothing (it only turns default deny on).
        if (!hasPeers(peers) && ports === undefined) return;
        rules.push({ direction, deny, index, specIndex, peers, ports });
      });
    }
    // enableDefaultDeny (1.15+) can switch the default deny of a direction off.
    if (spec?.enableDefaultDeny?.ingress === false) enforces.ingress = false;
    if (spec?.enableDefaultDeny?.egress === false) enforces.egress = false;
    return { object, subjects: [{ selector: spec?.endpointSelector ?? {}, namespace }], enforces, rules };
  });
}

function npPorts(ports: unknown): PortSpec[] | undefined {
  if (!Array.isArray(ports) || ports.length === 0) return undefined;
  return (ports as { port?: number | string; protocol?: string }[]).map((p) => ({ proto: PROTOCOLS[String(p.protocol ?? 'TCP').toUpperCase()] ?? 6, port: Number(p.port ?? 0) || 0 }));
}

function npPeers(list: unknown, namespace: string): Peers {
  // No from/to (or an empty list): every peer, the world included.
  if (!Array.isArray(list) || list.length === 0) return {};
  const peers: Peers = {};
  for (const peer of list as { podSelector?: LabelSelector; namespaceSelector?: LabelSelector; ipBlock?: { cidr: string; except?: string[] } }[]) {
    if (peer.ipBlock) (peers.cidrs ??= []).push({ cidr: peer.ipBlock.cidr, except: peer.ipBlock.except ?? [] });
    else if (peer.namespaceSelector) (peers.endpoints ??= []).push({ selector: peer.podSelector ?? {}, namespaceSelector: peer.namespaceSelector });
    else if (peer.podSelector) (peers.endpoints ??= []).push({ selector: peer.podSelector, namespace });
  }
  return peers;
}

function normaliseNetworkPolicy(object: PolicyObject): NormalPolicy[] {
  const spec = object.spec ?? {};
  const namespace = object.namespace ?? 'default';
  const types: string[] = Array.isArray(spec.policyTypes) ? spec.policyTypes : ['Ingress', ...(spec.egress ? ['Egress'] : [])];
  const rules: NormalRule[] = [];
  for (const [field, direction, peerField] of [['ingress', 'ingress', 'from'], ['egress', 'egress', 'to']] as const) {
    if (!types.includes(direction === 'ingress' ? 'Ingress' : 'Egress')) continue;
    ((spec[field] ?? []) as Record<string, unknown>[]).forEach((rule, index) => {
      rules.push({ direction, deny: false, index, specIndex: 0, peers: npPeers(rule?.[peerField], namespace), ports: npPorts(rule?.ports) });
    });
  }
  return [{ object, subjects: [{ selector: spec.podSelector ?? {}, namespace }], enforces: { ingress: types.includes('Ingress'), egress: types.includes('Egress') }, rules }];
}

export interface ResolveInput {
  policies: PolicyObject[];
  endpoints: PolicyEndpoint[];
  /** Namespace labels by namespace name. */
  namespaceLabels: Record<string, Record<string, string>>;
}

/** Resolves every endpoint's policy. */
export function resolvePolicy(input: ResolveInput): ResolvedPolicy {
  const policies = [...input.policies]
    .sort((a, b) => `${a.kind}/${a.namespace ?? ''}/${a.name}`.localeCompare(`${b.kind}/${b.namespace ?? ''}/${b.name}`))
    .flatMap((p) => (p.kind === 'NetworkPolicy' ? normaliseNetworkPolicy(p) : normaliseCilium(p)));

  // Identities: one per label set (the endpoints'), plus a CIDR identity per prefix any policy names.
  const identities = new Map<number, Record<string, string>>();
  for (const ep of input.endpoints) identities.set(ep.identity, identityLabels(ep, input.namespaceLabels));
  const prefixes = new Map<string, [number, number]>();
  for (const p of policies) {
    for (const r of p.rules) {
      for (const c of r.peers.cidrs ?? []) {
        for (const text of [c.cidr, ...c.except]) {
          const parsed = parseCidr(text);
          if (parsed && parsed[1] > 0) prefixes.set(canonical(parsed), parsed);
        }
      }
    }
  }
  const cidrIdentities: CidrIdentity[] = [...prefixes.keys()].sort().map((prefix, i) => ({ prefix, identity: FIRST_CIDR_IDENTITY + i }));

  const selectors = new Map<string, SelectorUse>();
  const use = (text: string, ids: number[]): number[] => {
    const s = selectors.get(text);
    if (s) s.users++;
    else selectors.set(text, { selector: text, identities: [...ids].sort((a, b) => a - b), users: 1 });
    return ids;
  };

  /** Identities a rule's peers select; [0] for "any". */
  const peerIdentities = (peers: Peers): number[] => {
    if (!hasPeers(peers)) return [0];
    const out = new Set<number>();
    for (const e of peers.endpoints ?? []) {
      const ids = [...identities.entries()]
        .filter(([, labels]) =>
          matches(e.selector, labels) &&
          (e.namespace === undefined || labels['io.kubernetes.pod.namespace'] === e.namespace) &&
          (e.namespaceSelector === undefined || matches(e.namespaceSelector, namespaceLabelsOf(labels))),
        )
        .map(([id]) => id);
      const text = e.namespaceSelector ? `${selectorText(e.selector, undefined)} in namespaces ${selectorText(e.namespaceSelector, undefined)}` : selectorText(e.selector, e.namespace);
      use(text, ids).forEach((id) => out.add(id));
    }
    for (const c of peers.cidrs ?? []) {
      const outer = parseCidr(c.cidr);
      if (!outer) continue;
      const excepts = c.except.map(parseCidr).filter((x): x is [number, number] => x !== undefined);
      const ids = cidrIdentities
        .filter((ci) => {
          const p = prefixes.get(ci.prefix) as [number, number];
          return within(p, outer) && !excepts.some((x) => within(p, x));
        })
        .map((ci) => ci.identity);
      if (outer[1] === 0) ids.push(ID_WORLD);
      use(`cidr:${c.cidr}${c.except.length ? ` except ${c.except.join(',')}` : ''}`, ids).forEach((id) => out.add(id));
    }
    for (const entity of peers.entities ?? []) {
      if (entity === 'all') return [0];
      if (entity === 'world') out.add(ID_WORLD);
      if (entity === 'cluster') for (const id of identities.keys()) out.add(id);
    }
    return [...out];
  };

  const rules: ResolvedRule[] = [];
  const ruleIdentities = new Map<number, number[]>();
  const ruleOf = new Map<NormalRule, number>();
  for (const p of policies) {
    for (const r of p.rules) {
      const cookie = rules.length + 1;
      rules.push({
        cookie,
        policy: { kind: p.object.kind, ...(p.object.namespace !== undefined && p.object.kind !== 'CiliumClusterwideNetworkPolicy' ? { namespace: p.object.namespace } : {}), name: p.object.name },
        direction: r.direction,
        deny: r.deny,
        index: r.index,
        specIndex: r.specIndex,
      });
      ruleOf.set(r, cookie);
      ruleIdentities.set(cookie, peerIdentities(r.peers));
    }
  }

  const endpoints = [...input.endpoints]
    .sort((a, b) => a.node.localeCompare(b.node) || a.epId - b.epId)
    .map((ep): EndpointPolicy => {
      const labels = identityLabels(ep, input.namespaceLabels);
      const selecting = policies.filter((p) => p.subjects.some((s) => matches(s.selector, labels) && (s.namespace === undefined || s.namespace === ep.namespace)));
      const ingressEnforced = selecting.some((p) => p.enforces.ingress);
      const egressEnforced = selecting.some((p) => p.enforces.egress);
      const raw: PolicyEntry[] = [];
      const ingressRules: number[] = [];
      const egressRules: number[] = [];
      for (const p of selecting) {
        for (const r of p.rules) {
          const cookie = ruleOf.get(r) as number;
          (r.direction === 'ingress' ? ingressRules : egressRules).push(cookie);
          for (const identity of ruleIdentities.get(cookie) ?? []) {
            for (const port of r.ports ?? [{ proto: 0, port: 0 }]) raw.push({ identity, direction: r.direction, proto: port.proto, port: port.port, deny: r.deny, cookie });
          }
        }
      }
      for (const direction of ['ingress', 'egress'] as const) {
        const enforced = direction === 'ingress' ? ingressEnforced : egressEnforced;
        if (!enforced) raw.push({ identity: 0, direction, proto: 0, port: 0, deny: false, cookie: 0 });
      }
      return { node: ep.node, epId: ep.epId, identity: ep.identity, namespace: ep.namespace, name: ep.name, ingressEnforced, egressEnforced, ingressRules, egressRules, entries: denyPreferred(raw) };
    });

  return { rules, endpoints, cidrIdentities, selectors: [...selectors.values()].sort((a, b) => a.selector.localeCompare(b.selector)) };

  function namespaceLabelsOf(labels: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(labels)) if (k.startsWith('io.cilium.k8s.namespace.labels.')) out[k.slice('io.cilium.k8s.namespace.labels.'.length)] = v;
    return out;
  }
}

/** Whether entry `wide` covers `narrow`: same or any identity, same or any protocol, same or any port. */
function covers(wide: PolicyEntry, narrow: PolicyEntry): boolean {
  return (
    wide.direction === narrow.direction &&
    (wide.identity === 0 || wide.identity === narrow.identity) &&
    (wide.proto === 0 || (wide.proto === narrow.proto && (wide.port === 0 || wide.port === narrow.port)))
  );
}

/** One entry per key; a deny that covers an allow replaces it (Cilium's deny-preferred insert). */
function denyPreferred(raw: PolicyEntry[]): PolicyEntry[] {
  const denies = raw.filter((e) => e.deny);
  const byKey = new Map<string, PolicyEntry>();
  for (const e of raw) {
    const cover = e.deny ? undefined : denies.find((d) => covers(d, e));
    const entry = cover ? { ...e, deny: true, cookie: cover.cookie } : e;
    const key = `${entry.direction}/${entry.identity}/${entry.proto}/${entry.port}`;
    const have = byKey.get(key);
    if (!have || (entry.deny && !have.deny)) byKey.set(key, entry);
  }
  return [...byKey.values()].sort(
    (a, b) => a.direction.localeCompare(b.direction) || a.identity - b.identity || a.proto - b.proto || a.port - b.port,
  );
}

/** The policy file lab-agent loads (agent.c load_policy) for one node's endpoints. */
export function policyFile(resolved: ResolvedPolicy, node: string): string {
  const lines: string[] = [];
  for (const ep of resolved.endpoints.filter((e) => e.node === node)) {
    const filter = (ep.ingressEnforced ? 1 << 1 : 0) | (ep.egressEnforced ? 1 << 2 : 0);
    if (filter) lines.push(`filter ${ep.epId} ${filter}`);
    for (const e of ep.entries) lines.push(`entry ${ep.epId} ${e.identity} ${e.direction} ${e.proto} ${e.port} ${e.deny ? 'deny' : 'allow'} ${e.cookie}`);
  }
  return lines.join('\n') + '\n';
}
