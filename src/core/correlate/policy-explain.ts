import type { HubbleEvent, MonitorEvent } from '../model/event.js';
import { SELECTOR_NOTE, type PolicyRuleFact } from '../model/policy.js';
import type { ReportDropExplanation, ReportEndpoint, ReportFlow, ReportFlowEnd, ReportPolicyEndpoint, ReportPolicyMatch, ReportPolicyPeer } from '../model/report.js';
import { dropReasonCode } from '../parse/cilium-drop-reasons.js';
import type { FlowRecord, PolicyRecord } from './accumulator.js';
import { maxSendsAtOnePoint } from './packet-verdicts.js';
import { RESERVED_IDENTITY_NAMES, reservedLabels, ruleName, ruleSelects, sectionMatches, type PolicyPacket, type PolicyPeer, type Tri } from './policy-match.js';

/** The policy objects among the inputs (Kubernetes objects or the agent's `policy get`) and what could not be read. */
export interface PolicyInputs {
  /** Undefined when no policy input was given: which policies select an endpoint is then unknown. */
  rules?: PolicyRuleFact[];
  /** Policy kinds that could not be read, in words (`CiliumClusterwideNetworkPolicy: forbidden by RBAC`). */
  unreadable?: string[];
  /** Labels of identities, from endpoint data (`cilium endpoint list`, CiliumEndpoints). */
  labels?: ReadonlyMap<number, readonly string[]>;
}

export interface ExplainContext {
  endpoints: readonly ReportEndpoint[];
  policies: PolicyInputs;
  /** Position of a point along the flow's path (build-report's rankPoint for this flow). */
  rank: (point: string) => number;
}

/**
 * Drop codes a policy decision returns (bpf/lib/common.h: DROP_POLICY 133, DROP_POLICY_DENY 181,
 * DROP_POLICY_AUTH_REQUIRED 189; before 1.3 also `Policy denied (L3)` 133, `(L4)` 159, `(CIDR)` 162).
 */
const POLICY_CODES = new Set([133, 181, 189]);
const POLICY_REASON = /^Policy denied|^Authentication required/i;

interface Enforcement {
  direction: 'ingress' | 'egress';
  endpointId?: number;
  because: string;
}

/** explainDrop: the explanation of a dropped flow, from its drop and policy-verdict records and the policies among the inputs. */
export function explainDrop(flow: ReportFlow, record: FlowRecord, ctx: ExplainContext): ReportDropExplanation | undefined {
  if (flow.verdict !== 'dropped' || !flow.dropReason) return undefined;
  const records = record.evidence.policy ?? [];
  const reason = flow.dropReason;
  const code = codeOf(records, reason);
  const byPolicy = (code !== undefined && POLICY_CODES.has(code)) || POLICY_REASON.test(reason);
  const unknown: string[] = [];
  const { lastSeenAt, firstMissedAt } = wherePacketStopped(flow, ctx.rank);
  const base = {
    reason,
    ...(code !== undefined ? { code } : {}),
    byPolicy,
    dropPoint: flow.dropPoint,
    lastSeenAt,
    firstMissedAt,
  };
  const verdicts = counted(records.filter((r) => isVerdict(r.event)).map((r) => verdictWords(r.event)));
  const source = peerOf(flow.source, 'src', records, ctx);
  const destination = peerOf(flow.destination, 'dst', records, ctx);
  if (!byPolicy) {
    const summary = `Dropped at ${flow.dropPoint ?? 'an unknown point'}: ${reason}${code !== undefined ? ` (code ${code})` : ''}; not a policy decision.`;
    return { ...base, direction: 'unknown', source, destination, verdicts, summary, unknown };
  }

  const enforcement = enforcementOf(records, unknown);
  const direction = enforcement?.direction ?? 'unknown';
  const enforcedBy = enforcement ? enforcerOf(enforcement, flow, ctx) : undefined;
  const enforcer = enforcement?.direction === 'ingress' ? destination : enforcement?.direction === 'egress' ? source : undefined;
  const remote = enforcement?.direction === 'ingress' ? source : enforcement?.direction === 'egress' ? destination : undefined;
  if (enforcedBy?.identity !== undefined && enforcer && enforcer.identity === undefined) enforcer.identity = enforcedBy.identity;

  const packet: PolicyPacket = { protocol: flow.protocol, ...(flow.destination?.port !== undefined ? { port: flow.destination.port } : {}) };
  let policies: ReportPolicyMatch[] | undefined;
  if (!ctx.policies.rules) {
    unknown.push(`which policy decided: no policy objects among the inputs (give \`kubectl get cnp,ccnp,netpol -A -o yaml\` or \`cilium-dbg policy get\` to analyze)`);
  } else if (!enforcement || !enforcer || !remote) {
    unknown.push('which policies apply: the direction is unknown (a policy-verdict record, `cilium monitor -t policy-verdict` or Hubble, names it)');
  } else {
    policies = matchPolicies(ctx.policies.rules, enforcement.direction, enforcer, remote, packet);
    if (!enforcer.labels) unknown.push(`which policies select ${endName(enforcer)}: its labels are unknown (give its endpoint data: \`cilium-dbg endpoint list\` or \`kubectl get cep -A -o json\`)`);
    if (!remote.labels && remote.identity === undefined) unknown.push(`whether a rule allows ${endName(remote)}: its identity is unknown`);
    else if (!remote.labels) unknown.push(`whether a rule selects identity ${remote.identity}: its labels are unknown (endpoint data or Hubble JSON give them)`);
  }
  for (const u of ctx.policies.unreadable ?? []) unknown.push(`policies not read: ${u}`);

  const sends = synSends(flow);
  const retransmitted = sends > 1 ? ` The SYN was sent ${sends} times: retransmissions of one connection, counted here, not new flows.` : '';
  const summary = summarise({ flow, reason, code, enforcement, enforcedBy, enforcer, remote, packet, policies, records, unreadable: ctx.policies.unreadable ?? [] }) + retransmitted;
  return {
    ...base,
    direction,
    ...(enforcedBy ? { enforcedBy } : {}),
    source,
    destination,
    verdicts,
    ...(policies ? { policies } : {}),
    summary,
    unknown,
  };
}

/**
 * A flow let through by policy audit mode: the verdict says audit where enforcement would have
 * denied (bpf/lib/policy.h: with POLICY_AUDIT_MODE a denial becomes an allowed, audited verdict).
 */
export function auditNote(record: FlowRecord): string | undefined {
  const audited = (record.evidence.policy ?? []).filter((r) => (r.event.tool === 'monitor' ? r.event.verdict === 'audit' : r.event.verdict === 'AUDIT' || r.event.verdict === 'AUDITED'));
  if (!audited.length) return undefined;
  return `Policy audit mode: ${audited.map((r) => verdictWords(r.event)).join('; ')}: policy would have denied this without audit mode, and let it through; a trace with enforcement on would show the drop.`;
}

/** Identical records once each, with how often they came (one per retransmission of a dropped SYN). */
function counted(lines: string[]): string[] {
  const n = new Map<string, number>();
  for (const l of lines) n.set(l, (n.get(l) ?? 0) + 1);
  return [...n].map(([l, k]) => (k > 1 ? `${l} (${k} times)` : l));
}

/** How often a TCP SYN of the flow was captured at one point: its sender's retransmissions share its key. */
function synSends(flow: ReportFlow): number {
  return Math.max(0, ...flow.packets.filter((p) => p.key.startsWith('tcp [S] ')).map(maxSendsAtOnePoint));
}

function codeOf(records: PolicyRecord[], reason: string): number | undefined {
  for (const r of records) if (r.event.dropCode !== undefined) return r.event.dropCode;
  return dropReasonCode(reason);
}

/** The last point that saw the packet and the first watching point after it that did not. */
function wherePacketStopped(flow: ReportFlow, rank: (p: string) => number): { lastSeenAt: string | null; firstMissedAt: string | null } {
  const captured = flow.seenAt.filter((p) => p.startsWith('pod:') || p.startsWith('host:'));
  const lastSeenAt = (captured.length ? captured : flow.seenAt).at(-1) ?? null;
  const after = lastSeenAt ? rank(lastSeenAt) : -Infinity;
  const firstMissedAt = flow.notSeenAt.find((p) => rank(p) > after) ?? null;
  return { lastSeenAt, firstMissedAt };
}

function isVerdict(e: MonitorEvent | HubbleEvent): boolean {
  return e.tool === 'monitor' ? e.type === 'policy-verdict' : e.kind === 'policy-verdict';
}

function isDenial(e: MonitorEvent | HubbleEvent): boolean {
  return isVerdict(e) && (e.tool === 'monitor' ? e.verdict === 'denied' : e.verdict === 'DENIED' || e.verdict === 'DROPPED');
}

function isDrop(e: MonitorEvent | HubbleEvent): boolean {
  return e.tool === 'monitor' ? e.type === 'drop' : e.kind === 'drop' || (e.verdict === 'DROPPED' && e.kind !== 'policy-verdict');
}

function verdictWords(e: MonitorEvent | HubbleEvent): string {
  if (e.tool === 'monitor') {
    const remote = e.policyDirection === 'ingress' ? e.srcIdentity : e.dstIdentity;
    return `cilium monitor: endpoint ${e.endpoint ?? '?'} ${e.policyDirection ?? '?'} ${e.verdict ?? '?'} (match ${e.policyMatch ?? '?'})${remote !== undefined ? `, remote identity ${remote}` : ''}`;
  }
  return `Hubble: policy-verdict:${e.policyMatch ?? 'none'}${e.direction ? ` ${e.direction.toUpperCase()}` : ''} ${e.verdict}`;
}

/**
 * Which direction and endpoint enforced the drop. A denying policy verdict names both. A monitor
 * drop names them by its `to endpoint N`: bpf_lxc.c drop_for_direction() sends dst_id LXC_ID for
 * a drop at ingress and 0 at egress (the sending endpoint's own program). Hubble JSON states the
 * traffic direction.
 */
function enforcementOf(records: PolicyRecord[], unknown: string[]): Enforcement | undefined {
  const found: Enforcement[] = [];
  for (const r of records) {
    const e = r.event;
    if (isDenial(e)) {
      if (e.tool === 'monitor' && e.policyDirection) found.push({ direction: e.policyDirection, endpointId: e.endpoint, because: verdictWords(e) });
      else if (e.tool === 'hubble' && e.direction) found.push({ direction: e.direction, endpointId: e.direction === 'ingress' ? e.dst.endpointId : e.src.endpointId, because: verdictWords(e) });
    }
  }
  if (!found.length) {
    for (const r of records) {
      const e = r.event;
      if (!isDrop(e)) continue;
      if (e.tool === 'monitor') {
        if (e.dstEndpoint) found.push({ direction: 'ingress', endpointId: e.dstEndpoint, because: `the drop names endpoint ${e.dstEndpoint} (to endpoint ${e.dstEndpoint}: an ingress drop)` });
        else if (!e.dropFile || e.dropFile === 'bpf_lxc.c') found.push({ direction: 'egress', because: 'the drop names no endpoint (to endpoint 0: bpf_lxc drops at egress with no destination endpoint)' });
      } else if (e.direction) {
        found.push({ direction: e.direction, endpointId: e.direction === 'ingress' ? e.dst.endpointId : e.src.endpointId, because: `Hubble: traffic direction ${e.direction}` });
      }
    }
  }
  if (!found.length) {
    unknown.push('the direction: no policy-verdict record and no drop record that names it (run `cilium monitor -t policy-verdict` or Hubble with the drop)');
    return undefined;
  }
  const dirs = new Set(found.map((f) => f.direction));
  if (dirs.size > 1) {
    unknown.push(`the direction: the records disagree (${found.map((f) => f.because).join('; ')})`);
    return undefined;
  }
  return found.find((f) => f.endpointId !== undefined) ?? found[0];
}

function enforcerOf(en: Enforcement, flow: ReportFlow, ctx: ExplainContext): ReportPolicyEndpoint {
  const end = en.direction === 'ingress' ? flow.destination : flow.source;
  const ep = en.endpointId !== undefined ? ctx.endpoints.find((e) => e.id === en.endpointId && (!end?.node || !e.node || e.node === end.node)) : undefined;
  const out: ReportPolicyEndpoint = {};
  const id = en.endpointId ?? end?.endpointId;
  if (id !== undefined) out.endpointId = id;
  const pod = ep?.pod || podOf(end);
  if (pod) out.pod = pod;
  const node = ep?.node || end?.node;
  if (node) out.node = node;
  const identity = ep?.identity ?? end?.identity;
  if (identity != null) out.identity = identity;
  return out;
}

/** The end's pod, `ns/name`; Hubble prints `ns/pod` in place of the address where it knows the pod. */
function podOf(end: ReportFlowEnd | undefined): string | undefined {
  if (end?.pod) return end.namespace ? `${end.namespace}/${end.pod}` : end.pod;
  return end?.ip && /^[a-z0-9-]+\/[a-z0-9.-]+$/.test(end.ip) ? end.ip : undefined;
}

/** One end as policy sees it: identity from the flow, or the records; labels from endpoint data, else Hubble JSON, else the reserved number. */
function peerOf(end: ReportFlowEnd | undefined, side: 'src' | 'dst', records: PolicyRecord[], ctx: ExplainContext): ReportPolicyPeer {
  const out: ReportPolicyPeer = {};
  if (end?.ip) out.ip = end.ip;
  if (end?.port !== undefined) out.port = end.port;
  const pod = podOf(end);
  if (pod) out.pod = pod;
  let identity = end?.identity;
  let labels: readonly string[] | undefined;
  let name: string | undefined;
  for (const r of records) {
    const e = r.event;
    if (e.tool === 'hubble') {
      const h = side === 'src' ? e.src : e.dst;
      identity ??= h.identity;
      labels ??= h.labels;
      name ??= h.identityName;
    } else {
      identity ??= side === 'src' ? e.srcIdentity : e.dstIdentity;
      name ??= side === 'src' ? e.srcIdentityName : e.dstIdentityName;
    }
  }
  // Identity 0 is IdentityUnknown (pkg/identity): a record that did not know it.
  if (identity !== undefined && identity !== 0) {
    out.identity = identity;
    // The agent's own labels of the identity (endpoint data) first: they are what its selectors match.
    labels = ctx.policies.labels?.get(identity) ?? labels ?? reservedLabels(identity);
    name ??= RESERVED_IDENTITY_NAMES[identity];
  }
  if (name) out.identityName = name;
  if (labels?.length) out.labels = [...labels];
  return out;
}

/** Every rule that may select the enforcing endpoint in this direction, and what it says of the packet. */
function matchPolicies(rules: PolicyRuleFact[], direction: 'ingress' | 'egress', enforcer: ReportPolicyPeer, remote: ReportPolicyPeer, packet: PolicyPacket): ReportPolicyMatch[] {
  const peer: PolicyPeer = { ...(remote.identity !== undefined ? { identity: remote.identity } : {}), ...(remote.labels ? { labels: remote.labels } : {}), ...(remote.ip ? { ip: remote.ip } : {}) };
  const out: ReportPolicyMatch[] = [];
  for (const rule of rules) {
    const selects = ruleSelects(rule, direction, enforcer.labels);
    if (selects === 'no') continue;
    const policy = ruleName(rule);
    const denies = firstSection(direction === 'ingress' ? rule.ingressDeny : rule.egressDeny, `${direction}Deny`, peer, packet);
    const allows = firstSection(direction === 'ingress' ? rule.ingress : rule.egress, direction, peer, packet);
    if (selects === 'unknown') {
      out.push({ policy, effect: 'unknown', detail: enforcer.labels ? (rule.unsupported?.find((u) => u.startsWith(SELECTOR_NOTE)) ?? 'its endpointSelector has a matchExpressions operator this tool does not evaluate') : 'whether it selects this endpoint: the endpoint labels are unknown' });
    } else if (denies.tri === 'yes') out.push({ policy, effect: 'denies', detail: denies.at });
    else if (denies.tri === 'unknown') out.push({ policy, effect: 'unknown', detail: `whether ${denies.at} covers this packet` });
    else if (allows.tri === 'yes') out.push({ policy, effect: 'allows', detail: allows.at });
    else if (allows.tri === 'unknown') out.push({ policy, effect: 'unknown', detail: `whether ${allows.at} covers this packet` });
    else out.push({ policy, effect: 'selects' });
  }
  return out;
}

function firstSection(sections: PolicyRuleFact['ingress'], name: string, peer: PolicyPeer, packet: PolicyPacket): { tri: Tri; at: string } {
  let unknownAt: string | undefined;
  for (let i = 0; i < sections.length; i++) {
    const m = sectionMatches(sections[i], peer, packet);
    if (m === 'yes') return { tri: 'yes', at: `${name}[${i}]` };
    if (m === 'unknown' && unknownAt === undefined) unknownAt = `${name}[${i}]`;
  }
  return unknownAt !== undefined ? { tri: 'unknown', at: unknownAt } : { tri: 'no', at: '' };
}

function endName(p: ReportPolicyPeer): string {
  return p.pod ?? p.ip ?? (p.identity !== undefined ? `identity ${p.identity}` : 'the endpoint');
}

/** An identity in words: `identity 52749 (k8s:app=client2)`, `identity 2 (world)`. */
function identityWords(p: ReportPolicyPeer): string {
  if (p.identity === undefined) return `${endName(p)} (identity unknown)`;
  const shown = (p.labels ?? []).filter((l) => !l.includes('io.cilium.k8s.namespace.labels.') && !l.includes('io.cilium.k8s.policy.') && !l.startsWith('k8s:io.kubernetes.pod.namespace='));
  const words = p.identityName ?? (shown.length ? shown.slice(0, 4).join(', ') + (shown.length > 4 ? ', ...' : '') : 'labels unknown');
  return `identity ${p.identity} (${words})`;
}

function portWords(packet: PolicyPacket): string {
  return packet.port !== undefined ? `port ${packet.port}/${packet.protocol.toUpperCase()}` : packet.protocol.toUpperCase();
}

interface SummaryFacts {
  flow: ReportFlow;
  reason: string;
  code: number | undefined;
  enforcement: Enforcement | undefined;
  enforcedBy: ReportPolicyEndpoint | undefined;
  enforcer: ReportPolicyPeer | undefined;
  remote: ReportPolicyPeer | undefined;
  packet: PolicyPacket;
  policies: ReportPolicyMatch[] | undefined;
  records: PolicyRecord[];
  unreadable: string[];
}

function summarise(s: SummaryFacts): string {
  const where = s.enforcement
    ? `at the ${s.enforcement.direction} of ${s.enforcedBy?.pod ?? (s.enforcedBy?.endpointId !== undefined ? `endpoint ${s.enforcedBy.endpointId}` : s.enforcement.direction === 'ingress' ? 'the destination endpoint' : 'the source endpoint')}`
    : `at ${s.flow.dropPoint ?? 'an unknown point'} (direction unknown)`;
  const head = `Denied by policy ${where}: ${s.reason}${s.code !== undefined ? ` (code ${s.code})` : ''}`;
  const who = s.remote ? `${identityWords(s.remote)} on ${portWords(s.packet)}` : `${portWords(s.packet)}`;
  const denyMatch = s.records.find((r) => isDenial(r.event) && r.event.policyMatch && r.event.policyMatch !== 'none');
  if (!s.policies) {
    // A denying verdict with a match type came from a deny rule (a default deny matches `none`).
    const kind = s.code === 181 || /denylist/i.test(s.reason) ? '; a deny rule matched' : denyMatch ? `; a rule matched (${denyMatch.event.policyMatch})` : '';
    return `${head}${kind}; ${who}; which policy: unknown.`;
  }
  const denies = s.policies.filter((p) => p.effect === 'denies');
  const allows = s.policies.filter((p) => p.effect === 'allows');
  const unsure = s.policies.filter((p) => p.effect === 'unknown');
  const selecting = s.policies.filter((p) => p.effect !== 'unknown').map((p) => p.policy);
  if (denies.length) return `${head}; ${denies.map((d) => `${d.policy} ${d.detail}`).join(', ')} denies ${who} (a deny rule wins over any allow).`;
  if (unsure.length) return `${head}; ${who}; which policy: unknown (${unsure.map((u) => `${u.policy}: ${u.detail}`).join('; ')}).`;
  if (allows.length) {
    return `${head}; but ${allows.map((a) => `${a.policy} ${a.detail}`).join(', ')} allows ${who} by the policies among the inputs: the agent enforced something else (a policy not among the inputs, not yet realized, or auth required).`;
  }
  if (selecting.length) return `${head}; default deny: selected by ${selecting.join(', ')} and no rule allows ${who}.`;
  const missing = s.unreadable.length ? ` (not read: ${s.unreadable.join('; ')})` : '';
  return `${head}; no policy among the inputs selects this endpoint in ${s.enforcement?.direction ?? 'this direction'}: the policy that did is not among them${missing}.`;
}
