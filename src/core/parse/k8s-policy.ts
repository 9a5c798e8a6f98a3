import type { LabelRequirement, PolicyPeerRule, PolicyRuleFact } from '../model/policy.js';
import { SELECTOR_NOTE } from '../model/policy.js';
import { asRecord, asString } from './json-value.js';
import { expressionsOf, ruleOf } from './cilium-policy.js';

/**
 * Network policy objects as the API server gives them (`kubectl get cnp,ccnp,netpol -A -o
 * yaml|json`, a manifest given to `kubectl apply`, or a list read by trace): CiliumNetworkPolicy,
 * CiliumClusterwideNetworkPolicy (cilium.io/v2, `spec` and/or `specs`, each an api/v1 Rule) and
 * networking.k8s.io/v1 NetworkPolicy, as the rules Cilium makes of them. Pure: the caller decodes
 * YAML or JSON into objects (with the line each starts on); this never throws, and an object it
 * cannot read is counted with its line and the reason.
 */
export interface K8sObjectItem {
  /** 1-based line the object starts on in its input. */
  line: number;
  value: unknown;
}

export interface K8sPolicyResult {
  rules: PolicyRuleFact[];
  unparsed: { line: number; text: string; reason: string }[];
}

/** The namespace label Cilium gives every pod identity (pkg/k8s/apis/cilium.io: PodNamespaceLabel). */
const NAMESPACE_LABEL = 'k8s:io.kubernetes.pod.namespace';
/** Namespace labels reach identities as `io.cilium.k8s.namespace.labels.KEY` (PodNamespaceMetaLabels). */
const NAMESPACE_META = 'k8s:io.cilium.k8s.namespace.labels.';

export const POLICY_KINDS = ['CiliumNetworkPolicy', 'CiliumClusterwideNetworkPolicy', 'NetworkPolicy'] as const;
type PolicyKind = (typeof POLICY_KINDS)[number];

export function parseK8sPolicies(items: readonly K8sObjectItem[]): K8sPolicyResult {
  const out: K8sPolicyResult = { rules: [], unparsed: [] };
  for (const item of items) {
    const o = asRecord(item.value);
    const kind = asString(o?.kind);
    const meta = asRecord(o?.metadata);
    const name = asString(meta?.name);
    const text = `${kind ?? '(no kind)'} ${name ?? '(no name)'}`;
    if (!o || !kind || !(POLICY_KINDS as readonly string[]).includes(kind)) {
      out.unparsed.push({ line: item.line, text, reason: `not a network policy object (kind ${kind ?? 'missing'})` });
      continue;
    }
    const namespace = kind === 'CiliumClusterwideNetworkPolicy' ? undefined : asString(meta?.namespace);
    const rules = kind === 'NetworkPolicy' ? networkPolicy(asRecord(o.spec), namespace) : ciliumRules(o, namespace);
    if (!rules.length) {
      out.unparsed.push({ line: item.line, text, reason: 'no spec or specs' });
      continue;
    }
    for (const r of rules) {
      r.kind = kind as PolicyKind;
      if (name) r.name = name;
      if (namespace) r.namespace = namespace;
      else if (kind !== 'CiliumClusterwideNetworkPolicy') {
        // A manifest without a namespace goes where kubectl applies it: this tool cannot know where.
        r.unsupported = [...(r.unsupported ?? []), `${SELECTOR_NOTE}: no namespace in the object`];
      }
    }
    out.rules.push(...rules);
  }
  return out;
}

/**
 * A CNP's spec and specs as Cilium parses them (pkg/k8s/apis/cilium.io/utils ParseToCiliumRule):
 * in a namespaced policy the endpointSelector, and every peer selector naming no namespace, are
 * limited to the policy's namespace.
 */
function ciliumRules(o: Record<string, unknown>, namespace: string | undefined): PolicyRuleFact[] {
  const specs = [asRecord(o.spec), ...(Array.isArray(o.specs) ? o.specs.map(asRecord) : [])].filter((s): s is Record<string, unknown> => !!s);
  return specs.map((spec) => {
    const rule = ruleOf(spec);
    if (namespace) {
      withNamespace(rule.selector, namespace);
      for (const section of [...rule.ingress, ...rule.ingressDeny, ...rule.egress, ...rule.egressDeny]) for (const sel of section.endpoints) withNamespace(sel, namespace);
    }
    return rule;
  });
}

function withNamespace(selector: Record<string, string>, namespace: string): void {
  const named = Object.keys(selector).some((k) => k.endsWith('io.kubernetes.pod.namespace') || k.startsWith('reserved:') || k.includes(':reserved:'));
  if (!named) selector[NAMESPACE_LABEL] = namespace;
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function labelsOf(v: unknown, prefix = ''): { labels: Record<string, string>; expressions: LabelRequirement[] } {
  const sel = asRecord(v);
  const labels: Record<string, string> = {};
  for (const [k, x] of Object.entries(asRecord(sel?.matchLabels) ?? {})) if (typeof x === 'string') labels[`${prefix}${k}`] = x;
  return { labels, expressions: expressionsOf(v, prefix) };
}

/**
 * A NetworkPolicy as Cilium translates it (pkg/k8s/network_policy.go ParseNetworkPolicy): podSelector
 * within the policy's namespace; policyTypes, or Ingress plus Egress when egress rules exist; a
 * rule without `from`/`to` allows every peer, without `ports` every port; a peer's podSelector
 * alone stays in the namespace, a namespaceSelector matches namespace labels; ipBlock is a CIDR
 * with exceptions.
 */
function networkPolicy(spec: Record<string, unknown> | undefined, ns: string | undefined): PolicyRuleFact[] {
  if (!spec) return [];
  const pod = labelsOf(spec.podSelector);
  const types = list(spec.policyTypes).filter((t): t is string => typeof t === 'string');
  const directions: ('ingress' | 'egress')[] = types.length
    ? types.flatMap((t) => (t === 'Ingress' ? ['ingress' as const] : t === 'Egress' ? ['egress' as const] : []))
    : ['ingress', ...(Array.isArray(spec.egress) ? ['egress' as const] : [])];
  const rule: PolicyRuleFact = {
    selector: pod.labels,
    ingress: list(spec.ingress).map((r) => npSection(asRecord(r), 'from', ns)),
    egress: list(spec.egress).map((r) => npSection(asRecord(r), 'to', ns)),
    ingressDeny: [],
    egressDeny: [],
    labels: [],
    directions,
  };
  if (ns) rule.selector[NAMESPACE_LABEL] = ns;
  if (pod.expressions.length) rule.selectorExpressions = pod.expressions;
  return [rule];
}

function npSection(r: Record<string, unknown> | undefined, dir: 'from' | 'to', ns: string | undefined): PolicyPeerRule {
  const section: PolicyPeerRule = { endpoints: [], cidrs: [], entities: [], fqdns: [], ports: [], l7: [] };
  const expressions: LabelRequirement[][] = [];
  const peers = list(r?.[dir]);
  if (!peers.length) section.entities.push('all');
  for (const p of peers) {
    const peer = asRecord(p) ?? {};
    const block = asRecord(peer.ipBlock);
    if (block) {
      const cidr = asString(block.cidr);
      if (cidr) section.cidrs.push(cidr);
      const except = list(block.except).filter((e): e is string => typeof e === 'string');
      if (except.length) section.cidrExcept = [...(section.cidrExcept ?? []), ...except];
      continue;
    }
    const pods = labelsOf(peer.podSelector);
    const namespaces = labelsOf(peer.namespaceSelector, NAMESPACE_META);
    expressions[section.endpoints.length] = [...pods.expressions, ...namespaces.expressions];
    // Without a namespaceSelector the pods are the policy's namespace's (unknown for a manifest without one: the rule says so).
    section.endpoints.push(peer.namespaceSelector ? { ...pods.labels, ...namespaces.labels } : { ...pods.labels, ...(ns ? { [NAMESPACE_LABEL]: ns } : {}) });
  }
  for (const p of list(r?.ports)) {
    const port = asRecord(p) ?? {};
    const protocol = asString(port.protocol) ?? 'TCP';
    const number = typeof port.port === 'number' ? String(port.port) : asString(port.port);
    const end = typeof port.endPort === 'number' ? port.endPort : undefined;
    section.ports.push({ port: number === undefined ? '0' : end !== undefined ? `${number}-${end}` : number, protocol });
  }
  if (expressions.some((e) => e.length)) section.endpointExpressions = section.endpoints.map((_, i) => expressions[i] ?? []);
  return section;
}
