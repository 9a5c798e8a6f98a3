/**
 * The agent's policy as the emulated `cilium-dbg` shows it, from the state the emulated agent
 * wrote with the maps (policy/state.json): `policy get [LABEL...]` (the rules as Cilium stores
 * them, then `Revision: N`, as in the real output in fixtures/real/cilium-policy), `policy
 * selectors`, and the `policy` part of `endpoint get` (policy-enabled, allowed/denied identities,
 * L4 filters with the rules they derive from, revision). Everything here is what the lab's BPF
 * maps were loaded from; nothing is invented for the CLI alone.
 */
import { readPolicyState, type PolicyState } from '../../policy/agent-files.js';
import type { PolicyObject } from '../../policy/resolve.js';
import type { NodeContext } from '../lab-context.js';
import { tabwrite } from '../go-tabwriter.js';
import { goJson } from './monitor-format.js';
import { dirname } from 'node:path';

type Json = Record<string, unknown>;
const PROTO_NAMES: Record<number, string> = { 6: 'TCP', 17: 'UDP', 132: 'SCTP', 1: 'ICMP' };

function stateOf(ctx: NodeContext): PolicyState | undefined {
  return readPolicyState(dirname(ctx.statePath));
}

/** A selector as Cilium stores it: label keys with their source (`any:` when none), the namespace added for a namespaced policy. */
function storedSelector(selector: Json | undefined, namespace: string | undefined): Json {
  const matchLabels: Record<string, string> = {};
  for (const [k, v] of Object.entries((selector?.matchLabels as Record<string, string>) ?? {})) matchLabels[k.includes(':') ? k : `any:${k}`] = String(v);
  if (namespace !== undefined && !Object.keys(matchLabels).some((k) => k.endsWith('io.kubernetes.pod.namespace'))) matchLabels['k8s:io.kubernetes.pod.namespace'] = namespace;
  const out: Json = { matchLabels: Object.fromEntries(Object.entries(matchLabels).sort(([a], [b]) => a.localeCompare(b))) };
  if (Array.isArray(selector?.matchExpressions)) out.matchExpressions = selector.matchExpressions;
  return out;
}

function ruleLabels(o: PolicyObject): Json[] {
  const labels = [{ key: 'io.cilium.k8s.policy.derived-from', value: o.kind, source: 'k8s' }, { key: 'io.cilium.k8s.policy.name', value: o.name, source: 'k8s' }];
  if (o.namespace !== undefined && o.kind !== 'CiliumClusterwideNetworkPolicy') labels.push({ key: 'io.cilium.k8s.policy.namespace', value: o.namespace, source: 'k8s' });
  if (o.uid) labels.push({ key: 'io.cilium.k8s.policy.uid', value: o.uid, source: 'k8s' });
  return labels;
}

/** A Cilium rule section with its peer selectors stored (namespaced). */
function storedSection(rules: Json[] | undefined, namespace: string | undefined): Json[] | undefined {
  if (!Array.isArray(rules)) return undefined;
  return rules.map((r) => {
    const out: Json = { ...r };
    for (const f of ['fromEndpoints', 'toEndpoints']) if (Array.isArray(r[f])) out[f] = (r[f] as Json[]).map((s) => storedSelector(s, namespace));
    return out;
  });
}

/** A NetworkPolicy as the Cilium rule it becomes (pkg/k8s/network_policy.go), in outline. */
function fromNetworkPolicy(o: PolicyObject): Json {
  const spec = (o.spec ?? {}) as Json;
  const ns = o.namespace ?? 'default';
  const section = (rules: Json[] | undefined, peer: 'from' | 'to'): Json[] =>
    (rules ?? []).map((r) => {
      const out: Json = {};
      const peers = (r[peer] as Json[] | undefined) ?? [];
      const eps = peers.filter((p) => p.podSelector || p.namespaceSelector).map((p) => {
        if (!p.namespaceSelector) return storedSelector(p.podSelector as Json, ns);
        const nsLabels = Object.fromEntries(Object.entries(((p.namespaceSelector as Json).matchLabels as Record<string, string>) ?? {}).map(([k, v]) => [`k8s:io.cilium.k8s.namespace.labels.${k}`, v]));
        const pod = storedSelector(p.podSelector as Json, undefined);
        return { matchLabels: { ...(pod.matchLabels as Json), ...nsLabels } };
      });
      if (eps.length > 0) out[`${peer}Endpoints`] = eps;
      const cidrs = peers.filter((p) => p.ipBlock).map((p) => p.ipBlock);
      if (cidrs.length > 0) out[`${peer}CIDRSet`] = cidrs;
      if (peers.length === 0) out[`${peer}Endpoints`] = [{}];
      if (Array.isArray(r.ports)) out.toPorts = [{ ports: (r.ports as Json[]).map((p) => ({ port: String(p.port ?? 0), protocol: p.protocol ?? 'TCP' })) }];
      return out;
    });
  const types = (spec.policyTypes as string[] | undefined) ?? ['Ingress'];
  const rule: Json = { endpointSelector: storedSelector(spec.podSelector as Json, ns) };
  if (types.includes('Ingress')) rule.ingress = section(spec.ingress as Json[] | undefined, 'from');
  if (types.includes('Egress')) rule.egress = section(spec.egress as Json[] | undefined, 'to');
  return rule;
}

/** Every rule the agent holds, as `policy get` prints them. */
function storedRules(state: PolicyState): Json[] {
  return state.objects.flatMap((o) => {
    if (o.kind === 'NetworkPolicy') return [{ ...fromNetworkPolicy(o), labels: ruleLabels(o) }];
    const ns = o.kind === 'CiliumNetworkPolicy' ? o.namespace : undefined;
    return [...(o.spec ? [o.spec] : []), ...(o.specs ?? [])].map((spec: Json) => {
      const rule: Json = { endpointSelector: storedSelector(spec.endpointSelector as Json, ns) };
      for (const f of ['ingress', 'ingressDeny', 'egress', 'egressDeny']) {
        const s = storedSection(spec[f] as Json[] | undefined, ns);
        if (s) rule[f] = s;
      }
      rule.labels = ruleLabels(o);
      return rule;
    });
  });
}

/** `policy get [LABEL...]`: the rules whose labels include every given one (`k8s:key=value`). */
export function policyGet(ctx: NodeContext, filters: string[]): string {
  const state = stateOf(ctx);
  const rules = state ? storedRules(state) : [];
  const wanted = filters.map((f) => f.replace(/^k8s:/, ''));
  const chosen = rules.filter((r) => wanted.every((w) => (r.labels as { key: string; value: string }[]).some((l) => `${l.key}=${l.value}` === w)));
  return `${chosen.length === 0 ? 'null' : goJson(chosen, '  ')}\nRevision: ${state?.revision ?? 1}\n`;
}

/** `policy selectors`: each peer selector, the policies using it and the identities it selects. */
export function policySelectors(ctx: NodeContext, output: string | undefined): string {
  const state = stateOf(ctx);
  const selectors = state?.selectors ?? [];
  if (output === 'json') return goJson(selectors.map((s) => ({ selector: s.selector, identities: s.identities, users: s.users })), '  ') + '\n';
  let t = 'SELECTOR\tUSERS\tIDENTITIES\n';
  for (const s of selectors) {
    const ids = s.identities.length === 0 ? [''] : s.identities.map(String);
    ids.forEach((id, i) => (t += i === 0 ? `${s.selector}\t${s.users}\t${id}\n` : `\t\t${id}\n`));
  }
  return tabwrite(t, 0, 3);
}

/** The `policy` of `endpoint get`: realized = spec = what the endpoint's map holds. */
export function endpointPolicyStatus(ctx: NodeContext, epId: number, identity: number): Json {
  const state = stateOf(ctx);
  const ep = state?.endpoints.find((e) => e.node === ctx.node.name && e.epId === epId);
  const revision = state?.revision ?? 1;
  if (!ep) {
    // The host endpoint: no host policy in the lab.
    const p = { 'allowed-egress-identities': [0], 'allowed-ingress-identities': [0], build: 1, 'denied-egress-identities': null, 'denied-ingress-identities': null, id: identity, l4: { egress: [], ingress: [] }, 'policy-enabled': 'none', 'policy-revision': revision };
    return { 'proxy-policy-revision': revision, 'proxy-statistics': [], realized: p, spec: p };
  }
  const ids = (dir: 'ingress' | 'egress', deny: boolean): number[] | null => {
    const list = [...new Set(ep.entries.filter((e) => e.direction === dir && e.deny === deny && e.proto === 0).map((e) => e.identity))].sort((a, b) => a - b);
    return list.length === 0 ? null : list;
  };
  const rulesOf = (cookie: number): string[] => {
    const r = state?.rules.find((x) => x.cookie === cookie);
    if (!r) return [];
    const labels = [`k8s:io.cilium.k8s.policy.derived-from=${r.policy.kind}`, `k8s:io.cilium.k8s.policy.name=${r.policy.name}`];
    if (r.policy.namespace) labels.push(`k8s:io.cilium.k8s.policy.namespace=${r.policy.namespace}`);
    return labels;
  };
  const l4 = (dir: 'ingress' | 'egress'): Json[] => {
    const byPort = new Map<string, { cookies: Set<number> }>();
    for (const e of ep.entries.filter((x) => x.direction === dir && x.proto !== 0)) {
      const key = `${e.port}/${PROTO_NAMES[e.proto] ?? e.proto}`;
      const have = byPort.get(key) ?? { cookies: new Set<number>() };
      have.cookies.add(e.cookie);
      byPort.set(key, have);
    }
    return [...byPort.entries()].map(([rule, v]) => ({ rule, 'derived-from-rules': [...v.cookies].map(rulesOf) }));
  };
  const enabled = ep.ingressEnforced && ep.egressEnforced ? 'both' : ep.ingressEnforced ? 'ingress' : ep.egressEnforced ? 'egress' : 'none';
  const p = {
    'allowed-egress-identities': ids('egress', false),
    'allowed-ingress-identities': ids('ingress', false),
    build: revision,
    'denied-egress-identities': ids('egress', true),
    'denied-ingress-identities': ids('ingress', true),
    id: identity,
    l4: { egress: l4('egress'), ingress: l4('ingress') },
    'policy-enabled': enabled,
    'policy-revision': revision,
  };
  return { 'proxy-policy-revision': revision, 'proxy-statistics': [], realized: p, spec: p };
}

/** The endpoint list's POLICY (ingress|egress) ENFORCEMENT columns. */
export function enforcementColumns(ctx: NodeContext, epId: number): [string, string] {
  const ep = stateOf(ctx)?.endpoints.find((e) => e.node === ctx.node.name && e.epId === epId);
  return [ep?.ingressEnforced ? 'Enabled' : 'Disabled', ep?.egressEnforced ? 'Enabled' : 'Disabled'];
}
