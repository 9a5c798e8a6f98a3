import type { LabelRequirement, PolicyPeerRule, PolicyRuleFact, PolicyState } from '../model/policy.js';
import { asRecord, asString } from './json-value.js';
import { transcriptNoise } from './transcript-noise.js';

/**
 * `cilium policy get [labels]` / `cilium-dbg policy get`: the rules as a JSON array (api/v1
 * models/policy Rule: endpointSelector, ingress, egress, ingressDeny, egressDeny, labels), then
 * `Revision: N`. Several arrays may follow each other (one `policy get` per label set).
 */
export interface PolicyGetResult {
  state: PolicyState;
  unparsed: { line: number; text: string; reason: string }[];
}

const REVISION = /^Revision: (\d+)$/;

/** isPolicyGetLine: a line only `policy get` prints (detection). */
export function isPolicyGetLine(line: string): boolean {
  return REVISION.test(line) || /^\s*"endpointSelector"\s*:/.test(line);
}

export function parsePolicyGet(lines: readonly string[]): PolicyGetResult {
  const out: PolicyGetResult = { state: { rules: [] }, unparsed: [] };
  let buffer: string[] | undefined;
  let start = 0;
  lines.forEach((raw, i) => {
    const line = raw.replace(/\s+$/, '');
    if (buffer) {
      buffer.push(line);
      // The array ends with `]` at column 0 (the agent pretty-prints with two-space indents).
      if (line === ']') {
        const text = buffer.join('\n');
        buffer = undefined;
        const problem = readRules(text, out.state);
        if (problem) out.unparsed.push({ line: start + 1, text: lines[start], reason: problem });
      }
      return;
    }
    if (line === '') return;
    if (line === '[' || line === '[]' || line.startsWith('[{')) {
      if (line === '[') {
        buffer = [line];
        start = i;
      } else {
        const problem = readRules(line, out.state);
        if (problem) out.unparsed.push({ line: i + 1, text: raw, reason: problem });
      }
      return;
    }
    const rev = REVISION.exec(line);
    if (rev) {
      out.state.revision = Number(rev[1]);
      return;
    }
    if (transcriptNoise(line) !== undefined) return;
    out.unparsed.push({ line: i + 1, text: raw, reason: 'not cilium policy get output' });
  });
  if (buffer) out.unparsed.push({ line: start + 1, text: lines[start], reason: 'policy JSON array without its end' });
  return out;
}

function readRules(text: string, state: PolicyState): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'policy JSON not valid';
  }
  if (!Array.isArray(value)) return 'policy JSON is not an array of rules';
  for (const r of value) {
    const rule = asRecord(r);
    if (!rule) return 'a policy rule is not an object';
    state.rules.push(ruleOf(rule));
  }
  return undefined;
}

function matchLabels(v: unknown): Record<string, string> {
  const labels = asRecord(asRecord(v)?.matchLabels) ?? {};
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(labels)) if (typeof x === 'string') out[k] = x;
  return out;
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Section fields that name peers or packets this tool does not evaluate (api/v1 IngressRule, EgressRule). */
const UNEVALUATED = ['fromRequires', 'toRequires', 'toServices', 'toGroups', 'fromNodes', 'toNodes', 'icmps', 'toFQDNs'];

/** A selector's matchExpressions, each with its key (source prefix kept), operator and values. */
export function expressionsOf(v: unknown, prefix = ''): LabelRequirement[] {
  return list(asRecord(v)?.matchExpressions).flatMap((x) => {
    const e = asRecord(x);
    const key = asString(e?.key);
    const operator = asString(e?.operator);
    if (!key || !operator) return [];
    return [{ key: `${prefix}${key}`, operator, values: list(e?.values).filter((s): s is string => typeof s === 'string') }];
  });
}

function peerRules(v: unknown, dir: 'from' | 'to'): PolicyPeerRule[] {
  return list(v).map((x) => {
    const s = asRecord(x) ?? {};
    const unsupported = UNEVALUATED.filter((k) => k !== 'toFQDNs' && list(s[k]).length > 0);
    const expressions = list(s[`${dir}Endpoints`]).map((e) => expressionsOf(e));
    const rule: PolicyPeerRule = {
      endpoints: list(s[`${dir}Endpoints`]).map(matchLabels),
      cidrs: [
        ...list(s[`${dir}CIDR`]).filter((c): c is string => typeof c === 'string'),
        ...list(s[`${dir}CIDRSet`]).map((c) => asString(asRecord(c)?.cidr)).filter((c): c is string => c !== undefined),
      ],
      entities: list(s[`${dir}Entities`]).filter((e): e is string => typeof e === 'string'),
      fqdns: list(s.toFQDNs).map((f) => asString(asRecord(f)?.matchName) ?? asString(asRecord(f)?.matchPattern)).filter((f): f is string => f !== undefined),
      ports: [],
      l7: [],
    };
    for (const tp of list(s.toPorts)) {
      const t = asRecord(tp) ?? {};
      for (const p of list(t.ports)) {
        const port = asRecord(p);
        const n = asString(port?.port) ?? (typeof port?.port === 'number' ? String(port.port) : undefined);
        const end = typeof port?.endPort === 'number' ? port.endPort : undefined;
        if (n !== undefined) rule.ports.push({ port: end !== undefined ? `${n}-${end}` : n, protocol: asString(port?.protocol) ?? 'ANY' });
      }
      for (const kind of Object.keys(asRecord(t.rules) ?? {})) if (!rule.l7.includes(kind)) rule.l7.push(kind);
    }
    if (unsupported.length) rule.unsupported = unsupported;
    if (expressions.some((e) => e.length)) rule.endpointExpressions = expressions;
    return rule;
  });
}

export function ruleOf(r: Record<string, unknown>): PolicyRuleFact {
  const labels = list(r.labels).map((l) => {
    const o = asRecord(l) ?? {};
    return `${asString(o.source) ?? ''}:${asString(o.key) ?? ''}${o.value !== undefined && o.value !== '' ? `=${asString(o.value) ?? ''}` : ''}`;
  });
  const fact: PolicyRuleFact = {
    selector: matchLabels(r.endpointSelector),
    ingress: peerRules(r.ingress, 'from'),
    egress: peerRules(r.egress, 'to'),
    ingressDeny: peerRules(r.ingressDeny, 'from'),
    egressDeny: peerRules(r.egressDeny, 'to'),
    labels,
  };
  const expressions = expressionsOf(r.endpointSelector);
  if (expressions.length) fact.selectorExpressions = expressions;
  // A host policy (nodeSelector) selects nodes, never a pod's endpoint.
  if (asRecord(r.nodeSelector)) fact.directions = [];
  const name = labels.find((l) => l.startsWith('k8s:io.cilium.k8s.policy.name='));
  const ns = labels.find((l) => l.startsWith('k8s:io.cilium.k8s.policy.namespace='));
  if (name) fact.name = name.slice(name.indexOf('=') + 1);
  if (ns) fact.namespace = ns.slice(ns.indexOf('=') + 1);
  return fact;
}
