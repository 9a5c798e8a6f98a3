import { flowOf } from './flow-key.js';
import { endText, mergeFlowInto, type FlowAccumulator, type FlowRecord, type FlowTranslation, type HopRecord, type PointHint, type TranslationRecord } from './accumulator.js';

/**
 * applyTranslations: a flow keeps its identity across address translation. For every
 * translation an observation showed (tuple `before`, then `after`), the flows of both tuples are
 * one flow: the packets seen after the translation join the flow of the original tuple, which
 * records what changed, where and by which evidence. The reply of a translated flow is translated
 * back (conntrack keeps the pair: Cilium's lb4_rev_nat in bpf/lib/lb.h, netfilter's nf_nat for
 * iptables), so its two tuples are one flow too, with a `revnat`.
 *
 * A socket-LB translation has no source address (it rewrote a socket, not a packet): it joins
 * the flows whose destination is the backend it chose; when no packet was seen at all, the
 * original tuple becomes a flow of its own with an unknown source.
 */
export function applyTranslations(acc: FlowAccumulator, resolve: (where: PointHint, stream: number) => string): void {
  // A flow folded into another is found under its old key too: a packet translated twice (DNAT
  // to one backend, then to another) stays one flow.
  const moved = new Map<string, FlowRecord>();
  // A tuple turned back into the one it was translated from is not a translation: no NAT undoes
  // itself on the same path; one skb held the next packet, which starts out untranslated (pwru
  // sees an skb's tuple change when its memory is reused before the tool saw it freed).
  const pairs = new Set<string>();
  const undone = new Set<TranslationRecord>();
  for (const t of acc.translations) {
    // Socket-LB records name the socket's tuples, the reverse one included: not packets.
    if (t.sock) continue;
    if (pairs.has(`${t.after.key}|${t.before.key}`)) undone.add(t);
    else pairs.add(`${t.before.key}|${t.after.key}`);
  }
  for (const seen of acc.translations) {
    if (undone.has(seen)) continue;
    const t: TranslationRecord = reverseOfDnat(acc.translations, seen) ? { ...seen, kind: 'revnat' } : seen;
    const point = typeof t.where === 'string' ? t.where : resolve(t.where, t.stream);
    const entry: FlowTranslation = { point, kind: t.kind, from: endText(t.before.dst, t.before.dstPort), to: endText(t.after.dst, t.after.dstPort), evidence: t.evidence };
    // The end that changed: the source for SNAT, masquerade and a reply's restored source.
    if (t.kind === 'snat' || t.kind === 'masquerade' || (t.before.dst === t.after.dst && t.before.dstPort === t.after.dstPort)) {
      entry.from = endText(t.before.src, t.before.srcPort);
      entry.to = endText(t.after.src, t.after.srcPort);
    }
    if (t.sock) applySocketTranslation(acc, t, entry);
    else applyPacketTranslation(acc, t, entry, moved);
  }
}

/**
 * A source change that turns a DNATed connection's reply back (backend -> client becomes frontend
 * -> client) is that DNAT's reverse NAT (lb4_rev_nat in bpf/lib/lb.h, nf_nat for iptables), not a
 * SNAT of its own, whichever tool saw the source change (pwru sees one skb's source change).
 */
function reverseOfDnat(all: readonly TranslationRecord[], t: TranslationRecord): boolean {
  return t.kind === 'snat' && all.some((d) => d.kind === 'dnat' && d.after.reverseKey === t.before.key && d.before.reverseKey === t.after.key);
}

function applyPacketTranslation(acc: FlowAccumulator, t: TranslationRecord, entry: FlowTranslation, moved: Map<string, FlowRecord>): void {
  if (t.kind === 'revnat') {
    // A reply translated back: it belongs to its connection, under the tuple it was restored to.
    const reply = joinFlows(acc, t.after.key, t.before.key, undefined, moved);
    addTranslation(reply, entry, t);
    noteSourceTranslationOfRequest(acc, t, entry.point, moved);
    return;
  }
  const forward = joinFlows(acc, t.before.key, t.after.key, t, moved);
  addTranslation(forward, entry, t);
  const replyFlow = acc.flows.get(t.before.reverseKey) ?? moved.get(t.before.reverseKey) ?? acc.flows.get(t.after.reverseKey) ?? moved.get(t.after.reverseKey);
  // A stale entry translates the reply back to another service: no revnat to the original is claimed.
  if (noteStaleRevnat(t, entry, [forward, replyFlow])) return;
  // The reply comes back from the translated address and is translated back to the original one.
  const reply = joinFlows(acc, t.before.reverseKey, t.after.reverseKey, undefined, moved);
  if (reply && forward && reply.ref.reverseKey !== forward.key) {
    // A request folded under its original tuple and a reply kept under the backend's are one connection.
    forward.pairKey = reply.key;
    reply.pairKey = forward.key;
  }
  // Where a tool saw the reply's source restored, that observation (and its point) says it, not this inference.
  const observed = acc.translations.some((x) => x.before.key === t.after.reverseKey && x.after.key === t.before.reverseKey && (x.kind === 'revnat' || reverseOfDnat(acc.translations, x)));
  if (reply && !observed) {
    const back: FlowTranslation = t.kind === 'dnat'
      ? { point: entry.point, kind: 'revnat', from: entry.to, to: entry.from, evidence: `reverse of the DNAT (${entry.from} -> ${entry.to}): conntrack translates the reply's source back` }
      : { point: entry.point, kind: 'revnat', from: entry.to, to: entry.from, evidence: `reverse of the ${entry.kind.toUpperCase()} (${entry.from} -> ${entry.to}): conntrack translates the reply's destination back` };
    addTranslation(reply, back, { ...t, kind: 'revnat', before: t.after, after: t.before });
  }
}

/**
 * A reply whose destination was translated back (to the pod, from the address it came back to)
 * shows what the request's source had been translated to: masquerade or SNAT by the rule the
 * request's trace matched, else an SNAT that no rule here showed.
 */
function noteSourceTranslationOfRequest(acc: FlowAccumulator, t: TranslationRecord, point: string, moved: Map<string, FlowRecord>): void {
  const b = t.before;
  const a = t.after;
  if (b.src !== a.src || b.dst === a.dst) return;
  const request = acc.flows.get(a.reverseKey) ?? moved.get(a.reverseKey);
  if (!request) return;
  const rule = request.natRule;
  const kind = rule?.target === 'MASQUERADE' ? 'masquerade' : 'snat';
  const from = endText(a.dst, a.dstPort);
  const to = endText(b.dst, b.dstPort);
  const evidence = `its reply came back to ${to} and was translated back to ${from}${rule && rule.target !== 'DNAT' ? ` (rule ${rule.text}, ${rule.chain})` : ''}`;
  addTranslation(request, { point, kind, from, to, evidence }, { ...t, kind });
}

/** The flow of the original tuple with the translated tuple's flow folded in; either alone when only one was seen. */
function joinFlows(acc: FlowAccumulator, originalKey: string, translatedKey: string, t: TranslationRecord | undefined, moved: Map<string, FlowRecord>): FlowRecord | undefined {
  const original = acc.flows.get(originalKey) ?? moved.get(originalKey);
  const translated = acc.flows.get(translatedKey) ?? moved.get(translatedKey);
  if (original && translated && original !== translated) {
    mergeFlowInto(translated, original);
    acc.dropFlow(translated);
    moved.set(translatedKey, original);
    for (const [k, f] of moved) if (f === translated) moved.set(k, original);
    return original;
  }
  if (original || translated) return original ?? translated;
  return t ? acc.flowOfRef(t.before) : undefined;
}

function applySocketTranslation(acc: FlowAccumulator, t: TranslationRecord, entry: FlowTranslation): void {
  // fwd: packets go to the backend (after); rev: the backend (before) sends the replies.
  const backend = t.kind === 'revnat' ? t.before : t.after;
  const matches = [...acc.flows.values()].filter((f) => {
    const end = t.kind === 'revnat' ? { ip: f.ref.src, port: f.ref.srcPort } : { ip: f.ref.dst, port: f.ref.dstPort };
    return f.ref.proto === backend.proto && end.ip === backend.dst && end.port === backend.dstPort;
  });
  if (matches.length === 0) {
    // No packet of the socket was seen: the socket's own tuple is the flow (source unknown), and
    // for the reverse records the backend's answer to it.
    const flow = t.kind === 'revnat' ? replyOfSocket(acc, t) : acc.flowOfRef(t.before);
    if (!flow) return;
    matches.push(flow);
  }
  for (const flow of matches) addTranslation(flow, entry, t);
}

function addTranslation(flow: FlowRecord | undefined, entry: FlowTranslation, t: TranslationRecord): void {
  if (!flow) return;
  const list = (flow.translations ??= []);
  if (list.some((x) => x.kind === entry.kind && x.from === entry.from && x.to === entry.to && x.point === entry.point)) return;
  list.push(entry);
  // Where the packets ended up: the destination a DNAT chose, the source a reverse NAT replaced.
  // A later translation of the same packet (DNAT twice) is where it ended up.
  if (t.kind === 'dnat' && !t.sock) flow.translatedDst = t.after.dst;
  // A reverse NAT is recorded in the request's orientation (client -> backend, inferred from the
  // DNAT) or as the reply packet itself was seen changing (backend -> client): the backend either way.
  if (t.kind === 'revnat' && !t.sock) flow.translatedSrc = t.before.src !== t.after.src ? t.before.src : t.before.dst;
}

/** The flow `backend -> ?` a socket received from, when no packet of it was seen. */
function replyOfSocket(acc: FlowAccumulator, t: TranslationRecord): FlowRecord | undefined {
  const b = t.before;
  const ref = flowOf({ ip: { version: b.dst.includes(':') ? 6 : 4, src: b.dst, dst: '?' }, l4: { proto: b.proto, srcPort: b.dstPort } });
  if (!ref) return undefined;
  ref.role = 'reply';
  return acc.flowOfRef(ref);
}

/**
 * A reply that answers a request but comes from another address than the request went to: the
 * request had no reply of its own, while a SYN-ACK (or another reply) reached the requester's
 * address and port from elsewhere. Its TCP ack = the SYN's seq + 1 proves it answers that SYN; the
 * same ports alone only suggest it. The translation back (reverse NAT) did not restore the
 * address the client sent to, so the client's stack does not recognise the answer (it resets it).
 */
export function noteMismatchedReplies(acc: FlowAccumulator, resolve: (where: PointHint, stream: number) => string): void {
  const flows = [...acc.flows.values()];
  for (const request of flows) {
    if (request.role !== 'request' || request.ref.srcPort === undefined || acc.flows.has(request.ref.reverseKey)) continue;
    for (const reply of flows) {
      const r = reply.ref;
      if (reply === request || (reply.role ?? reply.ctRole) !== 'reply' || r.proto !== request.ref.proto) continue;
      if (r.dst !== request.ref.src || r.dstPort !== request.ref.srcPort || (r.src === request.ref.dst && r.srcPort === request.ref.dstPort)) continue;
      // The request was translated to exactly where this answer comes from (an evidenced DNAT): on
      // the backend's side of that NAT the answer has the backend's address by design, and
      // conntrack translates it back on its way out (applyTranslations gave it that revnat).
      if (request.translations?.some((t) => t.kind === 'dnat' && t.to === endText(r.src, r.srcPort))) continue;
      const proof = tcpAnswer(request, reply);
      const to = endText(request.ref.dst, request.ref.dstPort);
      const from = endText(r.src, r.srcPort);
      const why = proof ? `its ${proof}` : `it went to the same address and port ${endText(r.dst, r.dstPort)}`;
      const at = [...new Set([...reply.evidence.seen.values()].map((x) => resolve(x.where, x.stream)))].join(', ');
      if (proof) {
        // A SYN-ACK's source is the address its SYN arrived at (the listening socket answers from
        // it), so an acked SYN answered from elsewhere was translated on its way and not back.
        (request.notes ??= []).push(`The answer came back from ${from}, not from ${to} where the request was sent (${why}): at ${at} its source had not been translated back to ${to} (a missing or wrong reverse NAT), so the requester cannot match it.`);
        (reply.notes ??= []).push(`This answers the request to ${to} (${why}) but comes from ${from}: at ${at} its source had not been translated back (a missing or wrong reverse NAT).`);
      } else {
        // Same ports alone do not prove the answer is to this request, nor that anything translated
        // it: say what is seen, and what would decide it.
        const decide = `cilium service list or cilium bpf lb list (is ${to} a service frontend?), or the request's TCP seq beside the answer's ack, would decide it`;
        (request.notes ??= []).push(`An answer to ${endText(request.ref.src, request.ref.srcPort)} came back from ${from}, not from ${to} where the request was sent (${why}; seen at ${at}). Unknown whether a translation was involved: if ${to} is a service address, its reverse NAT is missing or wrong; ${decide}.`);
        (reply.notes ??= []).push(`This may answer the request to ${to} (${why}) but comes from ${from}. Unknown whether a reverse NAT was missed: ${decide}.`);
      }
    }
  }
}

/** `SYN-ACK acks seq 4272068331 = the SYN's seq + 1` when the packets show it. */
function tcpAnswer(request: FlowRecord, reply: FlowRecord): string | undefined {
  if (request.ref.proto !== 'tcp') return undefined;
  const syns = new Set<number>();
  for (const p of request.packets.values()) {
    const m = /^tcp \[S\] seq (\d+)/.exec(p.key);
    if (m) syns.add(Number(m[1]));
  }
  for (const p of reply.packets.values()) {
    const m = /^tcp \[S\.\] seq \d+ ack (\d+)/.exec(p.key);
    if (m && syns.has(Number(m[1]) - 1)) return `SYN-ACK acknowledges ${m[1]}, the SYN's sequence number + 1`;
  }
  return undefined;
}

/**
 * The same packet captured at two points with different addresses: a translation between them.
 * A packet is the same when its identity in the flow (TCP flags, seq and ack; ICMP id and seq)
 * and its IPv4 id agree (NAT rewrites addresses and ports, not these). The earlier capture saw it
 * before the translation. A changed destination is a DNAT (its reply is joined by
 * applyTranslations); a changed source is an SNAT unless it is the reply of such a DNAT.
 */
export function findSamePacketTranslations(acc: FlowAccumulator, resolve: (where: PointHint, stream: number) => string): void {
  const seen = new Map<string, { flow: FlowRecord; hop: HopRecord }>();
  const pairs: { before: { flow: FlowRecord; hop: HopRecord }; after: { flow: FlowRecord; hop: HopRecord }; key: string; ipId: number }[] = [];
  for (const flow of acc.flows.values()) {
    if (flow.ref.proto === 'arp' || flow.ref.encap) continue;
    for (const packet of flow.packets.values()) {
      const hop = packet.hops.find((h) => (h.tool === 'tcpdump' || h.tool === 'pcap') && typeof h.facts.ipId === 'number' && h.time);
      if (!hop) continue;
      const id = `${flow.ref.proto}|${packet.key}|${hop.facts.ipId}`;
      const other = seen.get(id);
      if (!other) {
        if (seen.size < 65536) seen.set(id, { flow, hop });
        continue;
      }
      if (other.flow === flow || !comparableTimes(other.hop, hop)) continue;
      const [before, after] = other.hop.time!.us <= hop.time!.us ? [other, { flow, hop }] : [{ flow, hop }, other];
      pairs.push({ before, after, key: packet.key, ipId: hop.facts.ipId as number });
    }
  }
  const dnatted = new Set<FlowRecord>();
  const changed = (p: (typeof pairs)[number]) => {
    const a = p.before.flow.ref;
    const b = p.after.flow.ref;
    if (a.proto !== b.proto) return undefined;
    if (a.src === b.src && a.srcPort === b.srcPort && (a.dst !== b.dst || a.dstPort !== b.dstPort)) return 'dst';
    if (a.dst === b.dst && a.dstPort === b.dstPort && (a.src !== b.src || a.srcPort !== b.srcPort)) return 'src';
    return undefined;
  };
  for (const p of pairs) {
    if (changed(p) !== 'dst') continue;
    dnatted.add(p.before.flow);
    note(acc, p, 'dnat', resolve);
  }
  for (const p of pairs) {
    if (changed(p) !== 'src') continue;
    // The reply of a DNAT seen changing at two points is noted too: applyTranslations makes it that
    // DNAT's revnat (reverseOfDnat), at the points that saw it, not at the request's.
    note(acc, p, 'snat', resolve);
  }
}

function note(acc: FlowAccumulator, p: { before: { flow: FlowRecord; hop: HopRecord }; after: { flow: FlowRecord; hop: HopRecord }; key: string; ipId: number }, kind: 'dnat' | 'snat', resolve: (where: PointHint, stream: number) => string): void {
  const atBefore = resolve(p.before.hop.where, p.before.hop.stream);
  const atAfter = resolve(p.after.hop.where, p.after.hop.stream);
  const a = p.before.flow.ref;
  const b = p.after.flow.ref;
  const what = kind === 'dnat' ? ['to', endText(a.dst, a.dstPort), endText(b.dst, b.dstPort)] : ['from', endText(a.src, a.srcPort), endText(b.src, b.srcPort)];
  acc.translations.push({
    kind, before: a, after: b, where: `between ${atBefore} and ${atAfter}`, stream: p.after.hop.stream,
    evidence: `the same packet (${p.key}, IPv4 id ${p.ipId}) was captured at ${atBefore} ${what[0]} ${what[1]}, then at ${atAfter} ${what[0]} ${what[2]}`,
  });
}

/** Times of two captures that can be compared: the same kind of clock (one node's, or wall clocks). */
function comparableTimes(a: HopRecord, b: HopRecord): boolean {
  return !!a.time && !!b.time && a.time.clock === b.time.clock && (a.time.clock === 'wall' || a.time.clock === 'time-of-day');
}

/**
 * The service lookup created the connection with reverse NAT index N, but its conntrack entry
 * (found for the backend's tuple, or for the reply) carries M: a stale entry of another service.
 * lb4_rev_nat() (bpf/lib/lb.h) translates replies back with the frontend of the entry's
 * rev_nat_index, so the reply will carry service M's address instead of the one the client
 * connected to (newer agents detect this and print `Stale CT entry found`).
 */
function noteStaleRevnat(t: TranslationRecord, entry: FlowTranslation, flows: (FlowRecord | undefined)[]): boolean {
  if (t.revnat === undefined) return false;
  const stale = flows.find((f) => f?.ctRevnat !== undefined && f.ctRevnat !== t.revnat)?.ctRevnat;
  if (stale === undefined) return false;
  const words = `The service lookup created this connection with reverse NAT index ${t.revnat}, but its conntrack entry carries ${stale}: a stale entry of another service; the reply is translated back with that service's address (reverse NAT ${stale}), not ${entry.from} the client connected to.`;
  for (const f of new Set(flows)) if (f && !(f.notes ??= []).includes(words)) f.notes.push(words);
  return true;
}

/** `10.0.0.5`, `10.0.0.5:8080`, `[fd00::5]:80`: one address (and port); undefined for a range. */
function singleEnd(to: string): { ip: string; port?: number } | undefined {
  const m = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(to) ?? /^(\d+\.\d+\.\d+\.\d+)(?::(\d+))?$/.exec(to) ?? /^([0-9a-fA-F:]*:[0-9a-fA-F:]*)$/.exec(to);
  if (!m) return undefined;
  return m[2] !== undefined ? { ip: m[1], port: Number(m[2]) } : { ip: m[1] };
}

/**
 * A DNAT or SNAT rule a netfilter trace matched, accepted, with no later line of that packet to
 * show the result (the trace id ends there: the next hooks had no traced chain, or the output was
 * cut). The nat table is traversed only by a connection's first packet, and the DNAT/SNAT target
 * sets up the connection's mapping (xt_nat.c -> nf_nat_setup_info(); ACCEPT when it succeeded);
 * nf_nat_inet_fn() (net/netfilter/nf_nat_core.c) then applies it to that same packet with
 * nf_nat_packet() as the hook returns. So the packet went on with the rule's address, and its
 * port where the rule names one (else the port is kept). A range names no one address: noted, not translated.
 */
export function natRuleTranslations(acc: FlowAccumulator): void {
  for (const flow of acc.flows.values()) {
    const rule = flow.natRule;
    if (!rule?.to || rule.target === 'MASQUERADE' || rule.verdict !== 'accept' || flow.evidence.iptablesContinuedAs) continue;
    const to = singleEnd(rule.to);
    if (!to) continue;
    const a = flow.ref;
    const dnat = rule.target === 'DNAT';
    const after = flowOf({
      ip: { version: a.src.includes(':') ? 6 : 4, src: dnat ? a.src : to.ip, dst: dnat ? to.ip : a.dst },
      l4: { proto: a.proto, srcPort: !dnat && to.port !== undefined ? to.port : a.srcPort, dstPort: dnat && to.port !== undefined ? to.port : a.dstPort },
    });
    if (!after || after.key === a.key) continue;
    const changed = dnat ? `destination ${endText(a.dst, a.dstPort)} became ${endText(after.dst, after.dstPort)}` : `source ${endText(a.src, a.srcPort)} became ${endText(after.src, after.srcPort)}`;
    acc.translations.push({
      kind: dnat ? 'dnat' : 'snat', before: a, after, where: { kind: 'iptables' }, stream: rule.stream ?? 0,
      evidence: `netfilter trace: the packet matched ${rule.text.trim()} in ${rule.chain} (verdict accept); the nat table sees only a connection's first packet, and an accepted ${rule.target} is applied to that packet as it leaves the hook (nf_nat_setup_info, then nf_nat_packet): its ${changed}; no later line of the trace shows it`,
    });
  }
}

/**
 * A NAT rule a trace matched whose result no observation showed (no later line of the packet, no
 * reply, no capture beyond the host): the report says what is known and what would decide it.
 */
export function noteUnresolvedNatRules(acc: FlowAccumulator): void {
  for (const flow of acc.flows.values()) {
    const rule = flow.natRule;
    if (!rule || flow.translations?.length || flow.evidence.iptablesContinuedAs) continue;
    const end = rule.target === 'DNAT' ? 'destination' : 'source';
    const why = rule.verdict !== undefined && rule.verdict !== 'accept'
      ? `its verdict was ${rule.verdict}, not accept, so the mapping may not have been set up`
      : rule.target === 'MASQUERADE' ? 'masquerade takes the address of the outgoing interface, which the trace does not print' : rule.to ? `${rule.to} is a range: the trace does not say which address of it was chosen` : 'the rule names no address';
    const words = `The trace matched ${rule.target} in ${rule.chain} (${rule.text.trim()}), and no later observation shows the packet: its ${end} was translated, but to what is unknown (${why}); a capture beyond this host's hook, or conntrack -L, would show it.`;
    if (!(flow.notes ??= []).includes(words)) flow.notes.push(words);
  }
}
