import type { Outcome, PathStep, ReportCluster, ReportEndpoint, ReportEvidence, Verdict } from '../model/report.js';
import { ciliumPoint, iptablesPoint, kernelPoint, parsePoint } from '../points.js';
import type { FlowRecord, PointHint } from './accumulator.js';
import { readKernelPath, type KernelPath } from './kernel-path.js';
import type { TunnelInfo } from './flow-key.js';
import { statusNotes } from './cluster.js';
import { netfilterEvidence, netfilterSentence, readNetfilter } from './netfilter.js';
import type { FlowOutcome, PacketVerdict } from './packet-verdicts.js';

/** SeenAt: a resolved point that saw the flow, with how often and whether it was encapsulated there. */
export interface SeenAt {
  point: string;
  stream: number;
  count: number;
  encap?: string;
}

/** FlowFacts: everything the path rules may look at for one direction of one flow. */
export interface FlowFacts {
  flow: FlowRecord;
  direction: 'request' | 'reply';
  srcEp?: ReportEndpoint;
  dstEp?: ReportEndpoint;
  seen: SeenAt[];
  reverseSeen: SeenAt[];
  /** Whether the reverse flow can answer this one (reverseCanAnswer): an answer never comes first. */
  reverseAnswers: boolean;
  observed: Set<string>;
  /**
   * Capture points that saw packets while this flow's packets passed (or whose times cannot be
   * compared), and a live trace's captures that watched all of its traffic, seeing it or not.
   */
  capturing: Map<string, number>;
  /** Capture points that captured, but not while this flow's packets passed: when they did (capture-windows.ts). */
  notWatching?: Map<string, string>;
  /** When this flow's packets were captured, in words. */
  flowSpan?: string;
  monitorNodes: Set<string>;
  pwruNodes: Set<string>;
  iptablesNodes: Set<string>;
  nodeOfStream: (stream: number) => string;
  nodeOfEndpointId: (endpoint: number, stream: number) => string;
  describePod: (ep: ReportEndpoint | undefined) => string | undefined;
  streamName: (stream: number) => string;
  resolve?: (where: PointHint, stream: number) => string;
  /** What the agents' status says about the datapath, when a status input was given. */
  cluster?: ReportCluster;
  /** False when no input shows Cilium (no lxc or cilium_* device, no monitor, endpoint or status data): the words stay neutral. */
  cilium?: boolean;
  /** The tunnel a packet of this flow, or of its other direction, was seen in. */
  tunnel?: TunnelInfo;
  /** The shown packets' own outcomes, and their sum, when the report builder judged them. */
  packetVerdicts?: PacketVerdict[];
  packetOutcome?: FlowOutcome;
}

export interface Classification {
  path: PathStep[];
  verdict: Verdict;
  outcome: Outcome;
  outcomeReason: string | null;
  dropReason: string | null;
  dropPoint: string | null;
  notSeenAt: string[];
  notObserved: string[];
  conclusions: string[];
  evidence: ReportEvidence[];
}

interface NodeEvidence {
  node: string;
  text: string;
}

/**
 * classifyFlow applies the path rules to one direction. Every step of the path and the verdict
 * is returned with the evidence it rests on; where evidence is missing the answer is `unknown`.
 */
export function classifyFlow(f: FlowFacts): Classification {
  const dir = f.direction;
  const { srcEp, dstEp } = f;
  const srcNode = srcEp?.node || undefined;
  const dstNode = dstEp?.node || undefined;
  const crossNode = !!srcNode && !!dstNode && srcNode !== dstNode;
  /** Both ends known to be on one node: nothing crosses a tunnel between them. */
  const sameNode = !!srcNode && srcNode === dstNode;
  const seenPoints = new Set(f.seen.map((s) => s.point));

  const srcPod = podPointOf(srcEp, f);
  const dstPod = podPointOf(dstEp, f);
  const srcLxc = lxcPointOf(srcEp, f);
  const dstLxc = lxcPointOf(dstEp, f);
  const dstName = dstEp?.pod || f.flow.translatedDst || f.flow.ref.dst;
  const srcName = srcEp?.pod || f.flow.translatedSrc || f.flow.ref.src;

  const peer: NodeEvidence[] = [];
  const stack: NodeEvidence[] = [];
  const neigh: NodeEvidence[] = [];
  const overlay: NodeEvidence[] = [];
  const native: NodeEvidence[] = [];
  const bpfDelivery: NodeEvidence[] = [];
  /** bpf_redirect() to the destination lxc's egress (pwru): Cilium's local delivery without BPF host routing. */
  const redirect: NodeEvidence[] = [];
  /** The destination lxc saw it: either redirect or host-stack, other evidence decides. */
  const viaLxc: NodeEvidence[] = [];

  // Captures.
  const dstPodSeen = !!dstPod && seenPoints.has(dstPod);
  if (dstLxc && dstPodSeen && f.capturing.has(dstLxc) && !seenPoints.has(dstLxc)) {
    peer.push({
      node: dstNode ?? '?',
      text: `${dstLxc} was capturing (${capturedCount(f.capturing.get(dstLxc))}) but did not see this ${dir}, while ${dstPod} did${inferredOwner(dstEp, dstLxc)}`,
    });
  }
  // The destination lxc seeing it says the packet left through that veth's egress, which both
  // the host stack and Cilium's bpf_redirect() to the lxc do: it decides nothing alone.
  if (dstLxc && seenPoints.has(dstLxc) && f.flow.ref.proto !== 'arp') {
    viaLxc.push({ node: dstNode ?? '?', text: `${dstLxc} saw it: it reached ${dstName} through the destination's host-side veth` });
  }
  for (const s of f.seen) {
    const p = parsePoint(s.point);
    // Any point that saw the packet encapsulated (an underlay capture, pwru's tunnel tuple) saw
    // it cross the tunnel; a capture on the tunnel device sees it before encapsulation.
    if (s.encap && s.point !== srcPod && s.point !== dstPod) {
      overlay.push({ node: p?.node ?? '?', text: `${s.point} saw it inside ${s.encap}` });
      continue;
    }
    if (p?.kind !== 'host' || s.point === srcLxc || s.point === dstLxc) continue;
    if (!sameNode && /vxlan|geneve/.test(p.iface ?? '')) overlay.push({ node: p.node ?? '?', text: `${s.point} (the tunnel device) saw it` });
    else if (crossNode && !/^lxc|^cilium_/.test(p.iface ?? '')) native.push({ node: p.node ?? '?', text: `${s.point} saw it unencapsulated, with the pod addresses` });
  }

  // pwru.
  for (const k of f.flow.evidence.kernel) {
    const path = readKernelPath(k.steps);
    const node = f.nodeOfStream(k.stream);
    const who = `pwru on ${node} (skb ${k.skb})`;
    const onDst = !crossNode || node === dstNode;
    // bpf_redirect_peer() moves the skb into the pod's netns and its receive runs there; an
    // ingress redirect to a device of the host (BPF_F_INGRESS) also reaches ip_rcv with no
    // transmit, but in the same netns: only a change of netns, or failing pwru's netns column,
    // local delivery of the pod's address, says peer; the receive's device can say host.
    const rcvNetns = path.rcvNetns ?? netnsOfDevice(path.rcvDevice, dstEp);
    if (path.redirect && path.rcvAfterRedirect && !path.forward && onDst && rcvNetns !== 'same-netns') {
      if (rcvNetns === 'other-netns') {
        peer.push({ node, text: `${who}: skb_do_redirect then ip_rcv in another netns with no device transmit in between, and no ip_forward` });
      } else if (path.localDeliverAfterRedirectRcv && dstEp?.pod) {
        peer.push({ node, text: `${who}: skb_do_redirect then ip_rcv with no device transmit in between, and no ip_forward (pwru printed no netns: local delivery of ${dstName}'s address after it)` });
      }
    }
    if (path.forward) stack.push({ node, text: `${who}: ip_forward, the host stack routed it` });
    else if (path.routedLookup) stack.push({ node, text: `${who}: a route lookup (fib_table_lookup) after ip_rcv that did not deliver locally, the host stack routed it` });
    // Without BPF host routing Cilium's local delivery ends in redirect_ep() -> ctx_redirect(ifindex, 0):
    // a bpf_redirect() to the destination lxc's egress, so its transmit follows skb_do_redirect.
    // cilium/cilium bpf/lib/common.h (v1.11-v1.13), bpf/lib/l3.h (v1.14-v1.15), bpf/lib/local_delivery.h (v1.16+):
    //   if (needs_backlog || !is_defined(ENABLE_HOST_ROUTING)) return ctx_redirect(ctx, ifindex, 0);
    //   ... return ctx_redirect_peer(ctx, ifindex, 0);
    if (path.redirect && path.transmitAfterRedirect && !path.forward && !path.routedLookup && !path.neighAfterRedirect && !path.tunnelXmitAfterRedirect && onDst) {
      const dstIface = ifaceOf(dstLxc);
      const device = path.redirectDevice;
      if (!device || !dstIface || device === dstIface) {
        redirect.push({ node, text: `${who}: skb_do_redirect then a transmit on ${device ?? 'a device'} with no ip_forward: bpf_redirect() to the destination lxc` });
      }
    }
    if (path.redirect && path.neighAfterRedirect && !path.forward) neigh.push({ node, text: `${who}: skb_do_redirect then neighbour output, bpf_redirect_neigh()` });
    if (path.tunnel) overlay.push({ node, text: `${who}: tunnel device functions (${path.keyFuncs.filter((x) => /vxlan|geneve|udp_tunnel/.test(x)).join(', ')})` });
    else if (!sameNode) {
      // pwru's IFACE column: the skb was on a VXLAN/Geneve device (its transmit encapsulates it).
      const device = k.steps.find((st) => st.iface !== undefined && /vxlan|geneve/.test(st.iface))?.iface;
      if (device) overlay.push({ node, text: `${who}: on the tunnel device ${device}` });
    }
  }

  // cilium monitor.
  const mon = f.flow.evidence.monitor;
  for (const [tag, m] of mon) {
    const node = m.node ?? (m.endpoint !== undefined ? f.nodeOfEndpointId(m.endpoint, m.stream) : f.nodeOfStream(m.stream));
    const from = m.endpoint !== undefined ? `endpoint ${m.endpoint}` : 'the agent';
    const tool = m.tool === 'hubble' ? 'Hubble' : 'cilium monitor';
    if (tag.startsWith('local-delivery:')) {
      const to = tag.slice('local-delivery:'.length);
      bpfDelivery.push({ node, text: `${tool} on ${node}: ${from} attempted local delivery to endpoint ${to} in BPF` });
    } else if (tag === 'to-stack' || tag === 'from-stack') {
      stack.push({ node, text: `${tool} on ${node}: ${tag} at ${from}, handed to the host stack` });
    } else if (tag === 'to-overlay' || tag === 'from-overlay') {
      overlay.push({ node, text: `${tool} on ${node}: ${tag} at ${from}` });
    } else if (tag === 'to-network' || tag === 'from-network') {
      native.push({ node, text: `${tool} on ${node}: ${tag} at ${from}` });
    }
  }

  // bpf_lxc reports `-> stack` for every packet it hands to the stack (TRACE_TO_STACK at
  // pass_to_stack, cilium/cilium bpf/bpf_lxc.c) and the destination's policy program `-> endpoint`:
  // on one node, to-endpoint without to-stack is delivery in BPF.
  const toDst = dstEp?.id != null ? mon.get(`to-endpoint:${dstEp.id}`) : undefined;
  if (!crossNode && toDst && !mon.has('to-stack')) {
    const node = f.nodeOfEndpointId(dstEp!.id!, toDst.stream);
    bpfDelivery.push({ node, text: `cilium monitor on ${node}: to-endpoint ${dstEp!.id} and no to-stack, delivered in BPF` });
  }

  if (f.flow.outerOnly && f.flow.tunnel) {
    const points = uniq(f.seen.map((s) => s.point)).join(', ');
    overlay.push({ node: '?', text: `${points} saw ${tunnelName(f.flow.tunnel)} packets${f.flow.tunnel.outer ? ` between the nodes ${f.flow.tunnel.outer}` : ''}` });
  }
  // Cilium encapsulates both directions of a connection between two nodes in tunnel mode
  // (bpf_lxc / bpf_overlay): the other direction seen inside the tunnel says this one crossed it
  // too, unless this direction was itself seen on the underlay without it.
  if (!sameNode && overlay.length === 0 && native.length === 0) {
    for (const s of f.reverseSeen) {
      if (!s.encap) continue;
      overlay.push({ node: '?', text: `the ${dir === 'request' ? 'reply' : 'request'} was seen inside ${s.encap} at ${s.point}: both directions cross the same tunnel` });
      break;
    }
  }

  // iptables TRACE only fires where the host's netfilter hooks ran.
  for (const node of uniq([...f.flow.evidence.iptables.values()].map((it) => f.nodeOfStream(it.stream)))) {
    stack.push({ node, text: netfilterEvidence(readNetfilter(f.flow.evidence, (s) => f.nodeOfStream(s) === node)!, node) });
  }
  const netfilter = readNetfilter(f.flow.evidence);

  const evidence: ReportEvidence[] = [];
  const path: PathStep[] = [];
  const onNode = (xs: NodeEvidence[], node: string | undefined) => xs.filter((x) => !node || x.node === node || x.node === '?');
  const cite = (step: PathStep, xs: NodeEvidence[]) => {
    if (xs.length) evidence.push({ claim: step, because: uniq(xs.map((x) => x.text)) });
  };

  // The step that delivered it on one node: routed by the stack, bpf_redirect_peer() into the
  // pod, or bpf_redirect() to its lxc; undefined when the evidence does not say.
  const deliveryOn = (node: string | undefined, dstSideOnly: boolean): PathStep | undefined => {
    const on = (xs: NodeEvidence[]) => (dstSideOnly ? xs.filter((x) => x.node === node || (x.node === '?' && !node)) : onNode(xs, node));
    const nodeStack = dstSideOnly ? stack.filter((x) => x.node === node) : onNode(stack, node);
    if (nodeStack.length) {
      cite('host-stack', nodeStack);
      return 'host-stack';
    }
    const nodePeer = onNode(peer, node);
    if (nodePeer.length) {
      cite('redirect-peer', [...nodePeer, ...onNode(bpfDelivery, node)]);
      return 'redirect-peer';
    }
    const nodeRedirect = on(redirect);
    const nodeBpf = onNode(bpfDelivery, node);
    const nodeLxc = onNode(viaLxc, node);
    if (nodeRedirect.length || (nodeLxc.length && nodeBpf.length)) {
      cite('redirect', [...nodeLxc, ...nodeRedirect, ...nodeBpf]);
      return 'redirect';
    }
    return undefined;
  };

  if (f.flow.ref.proto !== 'arp') {
    if (crossNode) {
      const srcStack = onNode(stack, srcNode);
      const srcNeigh = onNode(neigh, srcNode);
      if (srcStack.length) {
        path.push('host-stack');
        cite('host-stack', srcStack);
      } else if (srcNeigh.length) {
        path.push('redirect-neigh');
        cite('redirect-neigh', srcNeigh);
      }
      if (overlay.length) {
        path.push('overlay');
        cite('overlay', overlay);
      } else if (native.length) {
        path.push('native-routing');
        cite('native-routing', native);
      }
      const dstStep = deliveryOn(dstNode, true);
      if (dstStep) path.push(dstStep);
    } else if (!sameNode && overlay.length) {
      // Nodes unknown (no endpoint data), but the packet was seen in a tunnel: it crossed nodes.
      path.push('overlay');
      cite('overlay', overlay);
    } else {
      const step = deliveryOn(undefined, false);
      if (step) path.push(step);
    }
    if (path.length === 0) path.push('unknown');
  }

  // Verdict.
  const drops = f.flow.evidence.drops;
  // A drop after ip_local_deliver happened in the receiver's stack (no socket, a closed port):
  // the datapath delivered the packet, so it does not make the flow dropped.
  const pathDrops = drops.filter((d) => !d.afterDelivery);
  const receiverDrops = drops.filter((d) => d.afterDelivery);
  let verdict: Verdict = 'unknown';
  let dropReason: string | null = null;
  let dropPoint: string | null = null;
  const delivered: string[] = [];
  if (dstPodSeen) delivered.push(`seen at ${dstPod}`);
  if (dstEp?.id != null && mon.has(`to-endpoint:${dstEp.id}`)) delivered.push(`cilium monitor: to-endpoint ${dstEp.id}`);
  // A trace that ends accepted in INPUT handed the packet to the host's own stack: its destination.
  if (netfilter?.final?.verdict === 'accept' && netfilter.final.chain.endsWith(':INPUT')) delivered.push(`netfilter accepted it into the host (${netfilter.final.verdict} at ${netfilter.final.chain})`);
  // Hubble's to-endpoint hands the packet to the flow's own destination endpoint, named or not.
  const toDstSaid = mon.get('to-endpoint:dst');
  if (toDstSaid && !(dstEp?.id != null && mon.has(`to-endpoint:${dstEp.id}`))) {
    delivered.push(toDstSaid.tool === 'hubble' ? `Hubble: to-endpoint FORWARDED to ${dstName}` : `cilium monitor: to-endpoint ${toDstSaid.endpoint ?? '?'} (the endpoint of ${dstName})`);
  }
  if (dir === 'request' && f.reverseSeen.length && f.reverseAnswers) delivered.push(`the reply was seen (${uniq(f.reverseSeen.map((s) => s.point)).slice(0, 3).join(', ')})`);
  const pointOfDrop = (d: (typeof drops)[number]) =>
    f.resolve ? f.resolve(d.where, d.stream) : d.where.kind === 'kernel' ? kernelPoint(f.nodeOfStream(d.stream)) : d.where.kind === 'iptables' ? iptablesPoint(f.nodeOfStream(d.stream)) : d.where.kind === 'endpoint' ? ciliumPoint(f.nodeOfEndpointId(d.where.endpoint, d.stream), d.where.endpoint) : d.where.kind === 'fixed' ? d.where.point : '?';
  // Per packet first: a packet's own hops decide it (build-report, packet-verdicts.ts); the flow
  // sums them up. Only when no shown packet could be judged do the flow-level facts decide.
  const po = f.packetOutcome;
  const judged = (f.packetVerdicts ?? []).filter((v) => v.counted);
  const acked = judged.filter((v) => v.outcome === 'delivered' && v.reason?.startsWith('acknowledged by')).length;
  if (acked) delivered.push(`${acked} of its segments acknowledged by the receiver's TCP (an ack beyond their sequence numbers, at the point that saw them)`);
  let outcome: Outcome = 'unknown';
  let outcomeReason: string | null = null;
  if (po && po.outcome !== 'unknown') {
    outcome = po.outcome;
    outcomeReason = po.summary;
    verdict = outcome === 'refused' ? 'delivered' : outcome;
    const firstDrop = judged.find((v) => v.outcome === 'dropped');
    if (firstDrop) {
      dropReason = firstDrop.dropReason ?? firstDrop.reason;
      dropPoint = firstDrop.point;
      evidence.push({ claim: 'dropped', because: uniq(drops.filter((d) => !d.afterDelivery).map((x) => `${x.detail}`)) });
    }
    if (judged.some((v) => v.outcome === 'delivered' || v.outcome === 'refused') && delivered.length) evidence.push({ claim: 'delivered', because: delivered });
    const refusals = uniq(judged.filter((v) => v.outcome === 'refused').map((v) => v.reason!));
    if (refusals.length) evidence.push({ claim: 'refused', because: refusals });
    const losses = uniq(judged.filter((v) => v.outcome === 'lost').map((v) => v.reason!));
    if (losses.length) evidence.push({ claim: 'lost', because: losses });
  } else if (pathDrops.length && !delivered.length || (receiverDrops.length && !delivered.length)) {
    verdict = 'dropped';
    const d = pathDrops[0] ?? receiverDrops[0];
    dropReason = d.reason;
    dropPoint = pointOfDrop(d);
    evidence.push({ claim: 'dropped', because: uniq((pathDrops.length ? pathDrops : receiverDrops).map((x) => `${x.detail}`)) });
  } else if (delivered.length) {
    verdict = 'delivered';
    evidence.push({ claim: 'delivered', because: delivered });
  } else if (dstPod && f.capturing.has(dstPod) && f.seen.length) {
    verdict = 'lost';
    evidence.push({ claim: 'lost', because: [`${dstPod} was capturing (${capturedCount(f.capturing.get(dstPod))}) and never saw it`, 'no tool reported a drop'] });
  }
  if (!(po && po.outcome !== 'unknown')) {
    outcome = verdict;
    outcomeReason = verdict === 'dropped' ? `dropped at ${dropPoint} (${dropReason})` : null;
  }
  // A drop no packet could be pinned to, on a flow whose packets got through: said, not concluded.
  const unpinned = verdict === 'delivered' ? pathDrops : [];

  // Points that watched and stayed silent, and points nobody watched.
  // ARP never leaves the pod's link: only IP flows have a path to watch.
  const expected = f.flow.ref.proto === 'arp' ? [] : expectedPoints(srcEp, dstEp, srcPod, srcLxc, dstLxc, dstPod, crossNode);
  const notSeenAt: string[] = [];
  const notObserved: string[] = [];
  const reverseSeenPoints = new Set(f.reverseSeen.map((s) => s.point));
  for (const p of expected) {
    if (seenPoints.has(p)) continue;
    const ref = parsePoint(p);
    if (ref?.kind === 'pod' || ref?.kind === 'host') {
      if (f.capturing.has(p)) notSeenAt.push(p);
      else notObserved.push(p);
    } else if (ref?.kind === 'cilium') {
      if (ref.node && f.monitorNodes.has(ref.node)) {
        if (reverseSeenPoints.has(p)) notSeenAt.push(p);
      } else notObserved.push(p);
    } else if (ref?.kind === 'kernel') {
      if (ref.node && f.pwruNodes.has(ref.node)) {
        if (reverseSeenPoints.has(p)) notSeenAt.push(p);
      } else notObserved.push(p);
    } else if (ref?.kind === 'iptables') {
      if (ref.node && f.iptablesNodes.has(ref.node)) {
        if (reverseSeenPoints.has(p)) notSeenAt.push(p);
      } else notObserved.push(p);
    }
  }

  const conclusions: string[] = [];
  const idle = notObserved.filter((p) => f.notWatching?.has(p));
  const idleSentence = idle.length
    ? `${idle.map((p) => `${p} captured only ${f.notWatching!.get(p)}`).join('; ')}: not while this ${dir}'s packets passed (${f.flowSpan}), so ${idle.length > 1 ? 'their' : 'its'} silence says nothing about them.`
    : undefined;
  conclusions.push(outcomeSentence(outcome, outcomeReason, judged, dir, dstName) ?? verdictSentence(verdict, dir, dstName, delivered, dropPoint, dropReason, f, dstPod));
  if (idleSentence) conclusions.push(idleSentence);
  if (unpinned.length) {
    conclusions.push(`A drop was reported for this flow without naming the packet (${uniq(unpinned.map((d) => `${d.reason} at ${pointOfDrop(d)}`)).join('; ')}): it is not pinned on a packet the destination received.`);
  }
  if (verdict === 'delivered' && receiverDrops.length) {
    const d = receiverDrops[0];
    conclusions.push(`After delivery, the kernel at ${pointOfDrop(d)} freed a copy with ${d.reason} (${d.detail}): that is the receiving stack's doing (no socket or port wanted it), not the datapath's.`);
  }
  if (f.flow.ref.proto === 'arp') {
    conclusions.push(arpSentence(f));
  } else {
    // Traffic of the host itself, or routed through it, is told by the chains and interfaces it crossed, not as lxc to lxc.
    const byNetfilter = netfilter && !crossNode && !(srcLxc && dstLxc) && path.length === 1 && path[0] === 'host-stack';
    conclusions.push(byNetfilter ? netfilterSentence(netfilter, dir) : pathSentence(path, { dir, srcName, dstName, srcLxc, dstLxc, dstPod, srcNode, dstNode, crossNode, overlay, peer, bpfDelivery, viaLxc, tunnel: f.tunnel, outerOnly: f.flow.outerOnly, cilium: f.cilium, droppedAt: verdict === 'dropped' ? (dropPoint ?? undefined) : undefined }));
  }
  if (path.length > 0 && hasConflict(path, crossNode, stack, peer, redirect)) {
    conclusions.push(`Evidence disagrees: some points suggest the host stack and others a BPF redirect (${peer.length ? 'bpf_redirect_peer' : 'bpf_redirect to the lxc'}); the path above follows the host-stack evidence.`);
  }
  if (f.cluster && f.flow.ref.proto !== 'arp') conclusions.push(...statusNotes(f.cluster, path, evidence, crossNode, sameNode));
  return { path, verdict, dropReason, dropPoint, notSeenAt: uniq(notSeenAt), notObserved: uniq(notObserved), conclusions, evidence, outcome, outcomeReason };
}

function hasConflict(path: PathStep[], crossNode: boolean, stack: NodeEvidence[], peer: NodeEvidence[], redirect: NodeEvidence[]): boolean {
  return !crossNode && path[0] === 'host-stack' && (peer.length > 0 || redirect.length > 0) && stack.length > 0;
}

function expectedPoints(
  srcEp: ReportEndpoint | undefined,
  dstEp: ReportEndpoint | undefined,
  srcPod: string | undefined,
  srcLxc: string | undefined,
  dstLxc: string | undefined,
  dstPod: string | undefined,
  crossNode: boolean,
): string[] {
  const out: string[] = [];
  const push = (p: string | undefined) => {
    if (p && !p.includes('/?') && !p.includes(':?')) out.push(p);
  };
  push(srcPod);
  push(srcLxc);
  if (srcEp?.node && srcEp.id != null) push(ciliumPoint(srcEp.node, srcEp.id));
  if (srcEp?.node) push(iptablesPoint(srcEp.node));
  if (srcEp?.node) push(kernelPoint(srcEp.node));
  if (crossNode && dstEp?.node) {
    push(iptablesPoint(dstEp.node));
    push(kernelPoint(dstEp.node));
  }
  if (dstEp?.node && dstEp.id != null) push(ciliumPoint(dstEp.node, dstEp.id));
  push(dstLxc);
  push(dstPod);
  return out;
}

/** Said where the interface is known to be the endpoint's only because a capture on it showed so. */
function inferredOwner(ep: ReportEndpoint | undefined, lxc: string): string {
  const iface = parsePoint(lxc)?.iface;
  return iface && ep?.inferred?.some((why) => why.startsWith(`${iface} inferred`)) ? ` (${iface}'s owner inferred from its capture: see Endpoints)` : '';
}

export function podPointOf(ep: ReportEndpoint | undefined, f: Pick<FlowFacts, 'observed' | 'seen'>): string | undefined {
  if (!ep?.pod) return undefined;
  const prefix = `pod:${ep.pod}/`;
  for (const p of f.observed) if (p.startsWith(prefix)) return p;
  for (const s of f.seen) if (s.point.startsWith(prefix)) return s.point;
  return `${prefix}eth0`;
}

function lxcPointOf(ep: ReportEndpoint | undefined, f: FlowFacts): string | undefined {
  if (!ep?.interface) return undefined;
  const suffix = `/${ep.interface}`;
  for (const p of f.observed) if (p.startsWith('host:') && p.endsWith(suffix)) return p;
  for (const s of f.seen) if (s.point.startsWith('host:') && s.point.endsWith(suffix)) return s.point;
  return ep.node ? `host:${ep.node}${suffix}` : undefined;
}

/**
 * The verdict sentence from per-packet outcomes, when they say more than the flow-level sentence:
 * mixed outcomes, a refusal, a loss with its reason. Undefined leaves the flow-level sentence.
 */
function outcomeSentence(outcome: Outcome, reason: string | null, judged: readonly PacketVerdict[], dir: string, dstName: string): string | undefined {
  if (!judged.length || !reason) return undefined;
  const mixed = judged.some((v) => v.outcome !== judged[0].outcome);
  if (mixed) return `Per packet: ${reason}.`;
  switch (outcome) {
    case 'refused':
      return `Refused: the ${dir} reached ${dstName}'s host and was ${uniq(judged.map((v) => v.reason)).join('; ')}.`;
    case 'lost':
      return `Lost: the ${dir} ${uniq(judged.map((v) => v.reason)).join('; ')}.`;
    default:
      return undefined;
  }
}

function verdictSentence(
  verdict: Verdict,
  dir: string,
  dstName: string,
  delivered: string[],
  dropPoint: string | null,
  dropReason: string | null,
  f: FlowFacts,
  dstPod: string | undefined,
): string {
  switch (verdict) {
    case 'delivered':
      return `Delivered: the ${dir} reached ${dstName} (${delivered.join('; ')}).`;
    case 'dropped':
      return `Dropped at ${dropPoint}: ${dropReason}.`;
    case 'lost': {
      const last = f.seen.map((s) => s.point).join(', ');
      return `Lost: the ${dir} was seen at ${last} but never reached ${dstPod}, which was capturing, and no tool reported a drop.`;
    }
    default: {
      // With socket LB the packets never carry the service address: the side to watch is the backend's.
      const socketLb = f.flow.translations?.find((t) => t.kind === 'dnat' && t.point === 'socket-lb');
      if (socketLb && dstName === f.flow.ref.dst) return `Not enough evidence to say whether the ${dir} was delivered: nothing watched the side of ${socketLb.to}, the backend the socket LB connected it to instead of ${socketLb.from}, or it stayed silent.`;
      return `Not enough evidence to say whether the ${dir} was delivered: nothing watched ${dstName}'s side, or it stayed silent.`;
    }
  }
}

function arpSentence(f: FlowFacts): string {
  const ref = f.flow.ref;
  if (f.cilium === false) {
    return ref.role === 'reply' ? `ARP reply for ${ref.src}: answered on the pod's link.` : `ARP request from ${ref.src} for ${ref.dst}: the pod resolves a next hop on its link.`;
  }
  return ref.role === 'reply'
    ? `ARP reply for ${ref.src}: answered on the pod's link; Cilium answers ARP for the pod's gateway from the host side.`
    : `ARP request from ${ref.src} for ${ref.dst}: the pod resolves its gateway (Cilium routes every pod packet via the router address).`;
}

/**
 * The words that name Cilium's mechanisms, or neutral ones (veth, a tc BPF program, the tunnel
 * device) where no input shows Cilium: another CNI may deliver the same way for other reasons.
 */
function cniWords(cilium: boolean) {
  return cilium
    ? {
        veth: 'lxc',
        decideUnknown: 'capture the lxc of both pods and run pwru or cilium monitor on the node',
        viaVeth: "which both the host stack and Cilium's bpf_redirect() to the lxc (no BPF host routing) do; pwru (ip_forward or skb_do_redirect), an iptables TRACE or cilium monitor (-> stack or not) on the node would decide",
        peerBy: "Cilium's BPF host routing delivered it with bpf_redirect_peer()",
        redirectBy: "Cilium's local delivery without BPF host routing",
        tunnelDevice: 'the tunnel device, cilium_vxlan or cilium_geneve',
        tunnelConfig: 'cilium status names it',
      }
    : {
        veth: 'host-side veth',
        decideUnknown: "capture the host side of both pods' veths and run pwru on the node",
        viaVeth: 'which both the host stack and a BPF redirect to the veth do; pwru (ip_forward or skb_do_redirect) or an iptables TRACE on the node would decide',
        peerBy: 'a tc BPF program delivered it with bpf_redirect_peer()',
        redirectBy: 'a tc BPF program redirected it',
        tunnelDevice: 'the tunnel device',
        tunnelConfig: "the CNI's configuration names it",
      };
}

interface PathWords {
  dir: string;
  srcName: string;
  dstName: string;
  srcLxc?: string;
  dstLxc?: string;
  dstPod?: string;
  srcNode?: string;
  dstNode?: string;
  crossNode: boolean;
  overlay: NodeEvidence[];
  peer: NodeEvidence[];
  bpfDelivery: NodeEvidence[];
  tunnel?: TunnelInfo;
  outerOnly?: boolean;
  viaLxc: NodeEvidence[];
  cilium?: boolean;
  /** Where the flow was dropped, when it was: a path that ends there needs no more probes to tell. */
  droppedAt?: string;
}

/**
 * Where a receive after a redirect ran, from its device, when pwru printed no netns (v0.0.1-v0.0.4
 * print `ifindex=` alone; every later layout names the device only beside the netns, which decides
 * first): on the destination lxc's ifindex it ran in the node's netns. The pod's eth0 is never at its
 * lxc's ifindex: the CNI creates the veth pair in the node's netns and moves eth0 into the pod's,
 * where it keeps its own ifindex (cilium/cilium plugins/cilium-cni: connector.SetupVeth, then
 * netlink.LinkSetNsFd(peer), then connector.SetupVethRemoteNs renames it; the seed: cni-6vf5d's eth0
 * is 23, its lxcf9d0a91de5fb 24). Any other ifindex says nothing: ifindexes repeat across netns.
 */
function netnsOfDevice(device: KernelPath['rcvDevice'], dstEp: ReportEndpoint | undefined): KernelPath['rcvNetns'] {
  return device?.ifindex !== undefined && device.ifindex === dstEp?.ifindex ? 'same-netns' : undefined;
}

function ifaceOf(point: string | undefined): string | undefined {
  return point ? parsePoint(point)?.iface : undefined;
}

function pathSentence(path: PathStep[], w: PathWords): string {
  const cni = cniWords(w.cilium !== false);
  const srcLxc = ifaceOf(w.srcLxc) ?? `${w.srcName}'s ${cni.veth}`;
  const dstLxc = ifaceOf(w.dstLxc) ?? `${w.dstName}'s ${cni.veth}`;
  if (path.length === 1 && path[0] === 'unknown') {
    if (w.viaLxc.length) {
      return `Path unknown: the ${w.dir} reached ${w.dstName} through ${dstLxc}, ${cni.viaVeth}.`;
    }
    // Dropped before it could travel: more probes would not show a path it never took.
    if (w.droppedAt) return `Path unknown: the ${w.dir} went no further than ${w.droppedAt}, where it was dropped.`;
    return `Path unknown: no probe saw enough of the ${w.dir} to tell how it travelled; ${cni.decideUnknown}.`;
  }
  if (!w.crossNode && path[0] === 'overlay') {
    const tunnel = w.tunnel ? `the ${tunnelName(w.tunnel)}` : 'a';
    if (w.outerOnly) {
      return `Path overlay: these are the outer packets of ${tunnel} tunnel${w.tunnel?.outer ? ` between the nodes ${w.tunnel.outer}` : ''}; the packet inside was not decoded, so which pods it joins is unknown (capture on ${cni.tunnelDevice}, or with a larger snaplen to see it).`;
    }
    const why = w.overlay[0] ? ` (${w.overlay[0].text})` : '';
    return `Path overlay: the ${w.dir} crossed between nodes inside ${tunnel} tunnel${why}; ${w.tunnel ? '' : `the tunnel protocol is not shown by this evidence (${cni.tunnelConfig}); `}which nodes it joined is unknown without endpoint data.`;
  }
  if (!w.crossNode) {
    if (path[0] === 'redirect-peer') {
      return `Path redirect-peer: the ${w.dir} went from ${srcLxc}'s tc ingress straight into ${w.dstName}'s eth0 without crossing ${dstLxc} or the host stack: ${cni.peerBy}.`;
    }
    if (path[0] === 'redirect') {
      return `Path redirect: the ${w.dir} went from ${srcLxc}'s tc ingress to ${dstLxc} by bpf_redirect() and from there into ${w.dstName}, never routed by the node's network stack (no ip_forward, no netfilter FORWARD): ${cni.redirectBy}.`;
    }
    return `Path host-stack: the ${w.dir} entered the host through ${srcLxc}, was routed by the node's network stack and left through ${dstLxc} into ${w.dstName}.`;
  }
  const parts: string[] = [];
  let dstSide = false;
  for (const step of path) {
    switch (step) {
      case 'host-stack':
        parts.push(dstSide ? `on ${w.dstNode} the host stack delivered it through ${dstLxc}` : `on ${w.srcNode} the host stack routed it out of ${srcLxc}`);
        break;
      case 'redirect-neigh':
        parts.push(`on ${w.srcNode} a tc BPF program sent it to the underlay with bpf_redirect_neigh(), skipping the host stack`);
        break;
      case 'overlay':
        parts.push(`it crossed to ${w.dstNode} inside ${w.tunnel ? `the ${tunnelName(w.tunnel)}` : 'the'} tunnel${w.overlay[0] ? ` (${w.overlay[0].text})` : ''}`);
        dstSide = true;
        break;
      case 'native-routing':
        parts.push(`it crossed to ${w.dstNode} unencapsulated over the underlay (native routing)`);
        dstSide = true;
        break;
      case 'redirect-peer':
        parts.push(`on ${w.dstNode} it was delivered into ${w.dstName}'s eth0 with bpf_redirect_peer(), never crossing ${dstLxc}`);
        break;
      case 'redirect':
        parts.push(`on ${w.dstNode} a BPF program sent it to ${dstLxc} with bpf_redirect(), not routed by the host stack`);
        break;
      default:
        break;
    }
  }
  return `Path ${path.join(' -> ')}: ${parts.join('; ')}.`;
}

function uniq<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

/** `vxlan (VNI 42)`: the tunnel protocol and its network identifier, as the evidence names them. */
export function tunnelName(t: TunnelInfo): string {
  return `${t.kind}${t.vni !== undefined ? ` (VNI ${t.vni})` : ''}`;
}

/** How much a silent capture point saw: a live trace's capture can have watched all the traffic and seen none of it. */
function capturedCount(n: number | undefined): string {
  return n ? `${n} packets` : 'through all of the traffic, no packet seen';
}
