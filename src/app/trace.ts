import { randomBytes } from 'node:crypto';
import { TRACE_META_FILE, type TraceMeta, type TraceMetaInput } from '../core/analyze/trace-meta.js';
import { DatapathError } from '../core/errors.js';
import type { EndpointInfo } from '../core/model/endpoint.js';
import type { HopReport } from '../core/model/report.js';
import { involvedNodes, planProbePods, planTrace, type PlannedProbe, type ProbePodNeed, type ProbeTool, type TraceNode, type TracePlan, type TraceTarget, type Traffic } from '../core/plan.js';
import { hubbleOff } from '../probes/hubble.js';
import { commandFor } from '../probes/index.js';
import type { CommandContext, ProbeCommand } from '../probes/probe-command.js';
import { describeTraffic } from '../probes/traffic.js';
import { analyze } from './analyze.js';
import { memoryCatalog, type MemoryFile } from './memory-inputs.js';
import type { ExecPort, KubePort, PodInfo, PodRef } from './ports.js';
import { deleteProbePods, discoverNode, podHandle, startProbePods, type ProbePodsOutcome } from './probe-pods.js';
import { lastLine, probeStatus, sleep, startProbe, stopProbes, untilQuiet, type ProbeRun } from './run-probes.js';
import { sendTraffic, type TrafficOutcome } from './send-traffic.js';

/** TraceRequest: what `kubectl datapath trace` was asked. */
export interface TraceRequest {
  src: PodRef;
  dst: PodRef;
  probes: ProbeTool[];
  traffic: Traffic;
  count: number;
  /** `--traffic none`: how long to observe, in seconds. */
  durationS: number;
  /** The whole run's limit, in seconds; also every remote command's `timeout`. */
  timeoutS: number;
  /** Packets per flow kept in the report's detail. */
  maxPackets: number;
  probeNamespace: string;
  probeImage: string;
  pwruImage: string;
  /** Fixed in tests; random otherwise. */
  runId?: string;
  readyTimeoutS?: number;
  /** After the traffic, how long at most the probes keep listening for late events. */
  graceMs?: number;
  /** After the traffic, the probes are stopped once none has printed anything for this long. */
  quietMs?: number;
}

/** ResolvedPod: what resolving a pod gives the trace (resolve.ts EndpointResolver.resolvePod). */
export interface ResolvedPod {
  pod: PodInfo;
  /** The pod's Cilium endpoint (id, identity, lxc, ifindex, MACs); absent for hostNetwork pods or when not found. */
  endpoint?: EndpointInfo;
  /** The agent pod of the pod's node, its container and CLI name. */
  agent?: { pod: PodRef; container: string; cli: string };
  /** Why there is no agent or endpoint, one line each. */
  problems?: string[];
}

/** ResolvePod: resolves one pod; it throws only when the pod itself cannot be had (missing, forbidden). */
export type ResolvePod = (ref: PodRef) => Promise<ResolvedPod>;

/** TraceSave: where `--save DIR` writes the raw outputs and run.json. */
export interface TraceSave {
  write(name: string, chunks: Uint8Array[]): Promise<void>;
  /** The directory, for messages. */
  where: string;
}

export interface TracePorts {
  kube: KubePort;
  exec: ExecPort;
  resolve: ResolvePod;
  save?: TraceSave;
}

/** TraceProgress: the steps, for a spinner on stderr, and one-line warnings for people. */
export interface TraceProgress {
  step(text: string): void;
  warn(line: string): void;
  /** Milestones between steps (each probe ready, all ready, stopped, deleted), for `--debug` timing lines. */
  debug?(line: string): void;
}

export interface TraceOutcome {
  report: HopReport;
  /** Some probe failed or was skipped, the traffic could not be sent, or the run was cut short. */
  partial: boolean;
  /** Ctrl-C: the report holds what was collected until then. */
  interrupted: boolean;
  timedOut: boolean;
}

const DEFAULT_READY_TIMEOUT_S = 45;
export const DEFAULT_GRACE_MS = 1500;
/**
 * Output that stops for this long after the traffic is taken as complete: the tools print each
 * event as they get it, and what a tool printed before its stop still arrives (the stream is read
 * to its end), so this need only cover packets still to come, which show in the captures first.
 */
export const DEFAULT_QUIET_MS = 250;
const MAX_CAPTURE_PACKETS = 10_000;
const PWRU_MAX_LINES = 200_000;
/** The remote `timeout` outlives the trace's own limit a little, so our stop comes first. */
const REMOTE_MARGIN_S = 30;
const STDERR_IN_META = 4096;

/**
 * trace: resolve both pods, plan, start probe pods and probes in parallel, wait until every probe
 * is ready, send the traffic (or observe), stop everything, delete what was created, and build
 * the report through the same path as `analyze` (so `--save` + `analyze DIR` agree). Cleanup
 * runs in `finally`: on success, error, timeout and Ctrl-C alike.
 */
export async function trace(req: TraceRequest, ports: TracePorts, progress: TraceProgress, signal: AbortSignal): Promise<TraceOutcome> {
  const runId = req.runId ?? randomBytes(4).toString('hex');
  const deadline = AbortSignal.timeout(req.timeoutS * 1000);
  const stopSignal = AbortSignal.any([signal, deadline]);
  const warnings: string[] = [];
  const warn = (line: string) => {
    warnings.push(line);
    progress.warn(line);
  };

  progress.step(`resolving ${ref(req.src)} and ${ref(req.dst)}`);
  const resolving = Promise.all([ports.resolve(req.src), ports.resolve(req.dst)]);
  resolving.catch(() => undefined); // awaited in the try below
  // The pods' nodes and addresses are known long before their endpoints (the agents are asked
  // for those): the probe pods are created now and start while the agents answer.
  const placement = await Promise.all([ports.kube.getPod(req.src), ports.kube.getPod(req.dst)]).catch(() => undefined);

  const nodes = new Map<string, TraceNode>();
  const created: PodRef[] = [];
  const runs: ProbeRun[] = [];
  let resolved: { src: TraceTarget; dst: TraceTarget; srcR: ResolvedPod; dstR: ResolvedPod } | undefined;
  let plan: TracePlan = { probes: [], skipped: [] };
  let unplaced: { command?: ProbeCommand; id: string }[] = [];
  let traffic: TrafficOutcome | undefined;
  let failure: unknown;
  let finished = false;
  let podsStarting: Promise<ProbePodsOutcome> | undefined;
  /** Ends the wait for probe pods when the trace ends before they run (say, a pod that does not resolve). */
  const podsAbort = new AbortController();
  try {
    const ctx = commandContext(runId, req, nodes);
    const readyTimeoutMs = (req.readyTimeoutS ?? DEFAULT_READY_TIMEOUT_S) * 1000;
    let settled = 0;
    let ready = 0;
    let total: number | undefined;
    const watching: Promise<void>[] = [];
    // Counted against the total once every probe is started; early ones only count until then.
    const showReady = () => {
      if (total === undefined || settled === 0) return;
      progress.step(`ready ${ready}/${total}${settled > ready ? ` (${settled - ready} failed)` : ''}`);
      if (settled === total) progress.debug?.(ready === total ? `all ${ready} probes ready` : `${ready} of ${total} probes ready`);
    };
    const launch = (commands: ProbeCommand[]) => {
      for (const c of commands) {
        const r = startProbe(ports.exec, c, readyTimeoutMs);
        runs.push(r);
        watching.push(
          r.ready.then((ok) => {
            settled++;
            if (ok) ready++;
            progress.debug?.(`${c.probe.id} ${ok ? 'ready' : `failed: ${r.failure}`}`);
            showReady();
          }),
        );
      }
    };
    /** Starts the probes that the plan for what is known now places, that `fits` picks, and that are not running yet. */
    const startWhere = ([a, b]: [TraceTarget, TraceTarget], fits: (p: PlannedProbe) => boolean): ProbeCommand[] => {
      if (finished || stopSignal.aborted) return [];
      const started = new Set(runs.map((r) => r.command.probe.id));
      const commands = planTrace(a, b, [...nodes.values()], req.probes).probes.filter((p) => fits(p) && !started.has(p.id)).flatMap((p) => commandFor(p, ctx) ?? []);
      launch(commands);
      return commands;
    };

    // Each probe starts as soon as what it needs is there, not when everything is: the probes
    // in the agents (monitor, iptables) once the endpoints are known, pwru and a node's netns
    // discovery once their pod runs and the endpoints are known (discovery needs the lxc ifindex
    // and MAC; pwru's start-up, BTF and attaching, is CPU-heavy on the node whose agent is still
    // being asked, and a pod seldom runs before the agent answers), the captures after discovery.
    let needs: ProbePodNeed[] = [];
    let endpointsKnown: (ends: [TraceTarget, TraceTarget]) => void = () => undefined;
    const whenEndpointsKnown = new Promise<[TraceTarget, TraceTarget]>((resolve) => (endpointsKnown = resolve));
    const discoveries: Promise<void>[] = [];
    const createProbePods = (ends: [TraceTarget, TraceTarget]) => {
      needs = planProbePods(ends[0], ends[1], req.probes);
      if (!needs.length || stopSignal.aborted) return;
      for (const name of involvedNodes(ends[0], ends[1])) if (!nodes.has(name)) nodes.set(name, emptyNode(name));
      progress.step(`creating ${needs.length} probe pod${needs.length === 1 ? '' : 's'} on ${nodes.size} node${nodes.size === 1 ? '' : 's'}`);
      const onRunning = (need: ProbePodNeed) => {
        if (need.role === 'pwru') void whenEndpointsKnown.then((known) => startWhere(known, (p) => p.tool === 'pwru' && p.node === need.node));
        const node = nodes.get(need.node);
        if (need.role !== 'capture' || !node) return;
        const discovery = whenEndpointsKnown.then(([a, b]) => discoverNode(ports.exec, node, [a, b], peerIp(node, nodes), stopSignal));
        discovery.catch(() => undefined); // awaited below, once every pod is up; not unhandled meanwhile
        discoveries.push(discovery);
      };
      podsStarting = startProbePods(ports.kube, needs, nodes, { namespace: req.probeNamespace, probeImage: req.probeImage, pwruImage: req.pwruImage, runId, timeoutS: req.timeoutS }, created, AbortSignal.any([stopSignal, podsAbort.signal]), onRunning);
    };
    const early = placement && placementTargets(placement[0], placement[1]);
    if (early) createProbePods(early);

    const [srcR, dstR] = await resolving;
    const [src, dst] = targets(srcR, dstR);
    await describeNodes(ports.kube, nodes, src, dst, [srcR, dstR]);
    resolved = { src, dst, srcR, dstR };
    endpointsKnown([src, dst]);
    progress.debug?.(`resolved ${ref(req.src)} on ${src.node} and ${ref(req.dst)} on ${dst.node}`);
    for (const p of [...(srcR.problems ?? []), ...(dstR.problems ?? [])]) warn(p);
    if (!early) createProbePods([src, dst]);
    if (!stopSignal.aborted) {
      const inAgents = startWhere([src, dst], (p) => p.place.kind === 'agent');
      if (inAgents.length) progress.step(`starting ${inAgents.length} probe${inAgents.length === 1 ? '' : 's'} in the Cilium agents`);
    }
    if (podsStarting) {
      const pods = await podsStarting;
      progress.debug?.(`probe pods running: ${[...nodes.values()].reduce((n, x) => n + Object.keys(x.probePods).length, 0)} of ${needs.length}`);
      if (pods.forbidden) warn(`probe pods are not allowed in ${req.probeNamespace} (${pods.forbidden}): tracing without them, with ${allowedWithoutPods(req.probes)}`);
      await Promise.all(discoveries);
      if (discoveries.length) progress.debug?.('pod netns, tunnel and underlay devices discovered');
    }
    plan = planTrace(src, dst, [...nodes.values()], req.probes);
    const started = new Set(runs.map((r) => r.command.probe.id));
    const commands = plan.probes.filter((p) => !started.has(p.id)).map((p) => ({ id: p.id, command: commandFor(p, ctx) }));
    unplaced = commands.filter((c) => !c.command);
    const placed = commands.flatMap((c) => (c.command ? [c.command] : []));
    if (stopSignal.aborted) return await finish();

    const nodeCount = new Set(placed.map((c) => c.probe.node)).size;
    if (placed.length) progress.step(`starting ${placed.length} ${started.size ? 'more ' : ''}probes on ${nodeCount} node${nodeCount === 1 ? '' : 's'}`);
    launch(placed);
    total = runs.length;
    showReady();
    const all = Promise.all(watching);
    await Promise.race([all, aborted(stopSignal)]);
    if (stopSignal.aborted) return await finish();
    // Hubble is on by default and absent on many clusters: its probe failing says so in one line.
    for (const r of runs) if (isHubbleOff(r)) warn(hubbleOff(r.command.probe.node, r.failure));
    if (ready === 0) {
      warn('no probe became ready: nothing was sent');
      return await finish();
    }

    if (req.traffic.kind === 'none') {
      progress.step(`observing for ${req.durationS} s`);
      await sleep(req.durationS * 1000, stopSignal);
    } else {
      progress.step(`sending ${describeTraffic(req.traffic)} from ${ref(req.src)} to ${dst.ip}`);
      traffic = await sendTraffic(ports.exec, req.traffic, req.count, src, dst, nodes.get(src.node), stopSignal);
      if (traffic.problem) warn(traffic.problem);
      const quietMs = req.quietMs ?? DEFAULT_QUIET_MS;
      const graceMs = req.graceMs ?? DEFAULT_GRACE_MS;
      progress.debug?.(`traffic ${traffic.problem ? 'failed' : 'sent'}; listening for late events until the probes are quiet for ${quietMs} ms, at most ${graceMs} ms`);
      const waited = Math.round(await untilQuiet(runs, quietMs, graceMs, stopSignal));
      progress.debug?.(waited < graceMs ? `probes quiet ${waited} ms after the traffic` : `probes not quiet yet ${waited} ms after the traffic (the limit): stopping them`);
    }
    return await finish();
  } catch (err) {
    failure = err;
    return await finish();
  } finally {
    // finish() has run on every path that returns; this only guards a throw inside finish itself.
    if (!finished) await cleanup();
  }

  /** Everything that must happen after probes were (maybe) started, exactly once. */
  async function cleanup(): Promise<void> {
    finished = true;
    // Pods still being created are waited for (not for them to run), so none is left behind.
    podsAbort.abort();
    await podsStarting;
    if (runs.length || created.length) progress.step('collecting');
    await stopProbes(ports.exec, runs);
    progress.debug?.(`${runs.length} probes stopped`);
    for (const r of runs) for (const p of r.cleanupProblems) warn(p);
    for (const p of await deleteProbePods(ports.kube, created)) warn(p);
    if (created.length) progress.debug?.(`${created.length} probe pods deleted`);
  }

  async function finish(): Promise<TraceOutcome> {
    await cleanup();
    // Without both ends resolved there is nothing to report: the probe pods created meanwhile
    // are gone, and the error (a missing pod, no IP yet) is the caller's, as it always was.
    if (resolved === undefined) throw failure;
    const { src, dst, srcR, dstR } = resolved;
    if (failure !== undefined) {
      // Cluster errors after the start degrade the report; anything else is a bug and is rethrown.
      if (!(failure instanceof DatapathError)) throw failure;
      warn(`the trace stopped early: ${failure.message}`);
    }
    const interrupted = signal.aborted;
    const timedOut = !interrupted && deadline.aborted;
    if (interrupted) warnings.push('interrupted (Ctrl-C): the report holds what was collected until then');
    if (timedOut) warn(`the trace reached its --timeout of ${req.timeoutS} s: the report holds what was collected until then`);
    const { files, meta } = record(runId, req, src, dst, [srcR, dstR], nodes, plan, runs, unplaced, traffic, warnings);
    const report = await analyze({ paths: files.map((f) => f.name).sort(), points: [], endpointFiles: [], maxPackets: req.maxPackets }, memoryCatalog(files));
    if (ports.save) await save(ports.save, files, progress);
    const partial = interrupted || timedOut || failure !== undefined || traffic?.problem !== undefined || meta.inputs.some((i) => i.status !== 'ok' && !i.status.startsWith(HUBBLE_OFF));
    return { report, partial, interrupted, timedOut };
  }
}

/** The status of a hubble probe whose node has no Hubble: not a gap of the trace, which never asked for it. */
const HUBBLE_OFF = 'skipped: Hubble is off on';

function isHubbleOff(run: ProbeRun): boolean {
  return run.command.format === 'hubble' && run.state === 'failed' && !run.stopRequested;
}

function ref(p: PodRef): string {
  return `${p.namespace}/${p.name}`;
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** The tools that need no probe pod: monitor and iptables run in the agent, tcpdump by exec when the app image has it. */
function allowedWithoutPods(probes: readonly ProbeTool[]): string {
  const list: string[] = [];
  if (probes.includes('monitor')) list.push('cilium monitor');
  if (probes.includes('hubble')) list.push('Hubble');
  if (probes.includes('iptables')) list.push('iptables TRACE');
  if (probes.includes('tcpdump')) list.push('tcpdump in the pods whose image has it');
  return list.length ? list.join(', ') : 'nothing';
}

/** targets: both ends as the plan sees them, on an address family both have. */
function targets(a: ResolvedPod, b: ResolvedPod): [TraceTarget, TraceTarget] {
  const v4 = (ips: string[]) => ips.find((ip) => !ip.includes(':'));
  const v6 = (ips: string[]) => ips.find((ip) => ip.includes(':'));
  const pick = (r: ResolvedPod): string => {
    const other = r === a ? b : a;
    if (v4(r.pod.ips) && v4(other.pod.ips)) return v4(r.pod.ips)!;
    if (v6(r.pod.ips) && v6(other.pod.ips)) return v6(r.pod.ips)!;
    return r.pod.ips[0] ?? '';
  };
  const target = (r: ResolvedPod): TraceTarget => ({
    namespace: r.pod.namespace,
    name: r.pod.name,
    node: r.pod.node,
    ip: pick(r),
    hostNetwork: r.pod.hostNetwork,
    containers: r.pod.containers.map((c) => c.name),
    endpointId: r.endpoint?.id ?? null,
    lxc: r.endpoint?.interface,
    lxcIfindex: r.endpoint?.ifindex,
    mac: r.endpoint?.mac,
  });
  const [src, dst] = [target(a), target(b)];
  if (!src.ip || !dst.ip) throw new DatapathError(`${ref(src.ip ? b.pod : a.pod)} has no IP address yet: is it running?`, 1);
  return [src, dst];
}

function emptyNode(name: string): TraceNode {
  return { name, probePods: {}, probePodProblems: {}, netnsOfPod: {} };
}

/**
 * placementTargets: both ends as far as their pods say (node, addresses, no endpoint yet), when
 * both are on a node and have an address; enough to create the probe pods and plan pwru.
 */
function placementTargets(a: PodInfo, b: PodInfo): [TraceTarget, TraceTarget] | undefined {
  const placed = (p: PodInfo) => p.node !== '' && p.ips.length > 0 && p.phase !== 'Succeeded' && p.phase !== 'Failed';
  return placed(a) && placed(b) ? targets({ pod: a }, { pod: b }) : undefined;
}

/** describeNodes adds the involved nodes to the map (when the probe pods did not already) with their address and agent. */
async function describeNodes(kube: KubePort, nodes: Map<string, TraceNode>, src: TraceTarget, dst: TraceTarget, resolved: ResolvedPod[]): Promise<void> {
  const names = involvedNodes(src, dst);
  const infos = await Promise.all(names.map((name) => kube.getNode(name).catch(() => undefined)));
  for (const [i, name] of names.entries()) {
    const node = nodes.get(name) ?? emptyNode(name);
    const r = resolved.find((x) => x.pod.node === name && x.agent);
    node.internalIp = infos[i]?.internalIp;
    node.agent = r?.agent ? { ...podHandle(r.agent.pod, r.agent.container), cli: r.agent.cli } : undefined;
    node.agentProblem = r ? undefined : resolved.find((x) => x.pod.node === name)?.problems?.find((p) => /agent/i.test(p));
    nodes.set(name, node);
  }
}

function peerIp(node: TraceNode, nodes: Map<string, TraceNode>): string | undefined {
  for (const n of nodes.values()) if (n.name !== node.name) return n.internalIp;
  return undefined;
}

function commandContext(runId: string, req: TraceRequest, nodes: Map<string, TraceNode>): CommandContext {
  return {
    runId,
    lifetimeS: req.timeoutS + REMOTE_MARGIN_S,
    maxCapturePackets: MAX_CAPTURE_PACKETS,
    pwruMaxLines: PWRU_MAX_LINES,
    probePod: (node, role) => nodes.get(node)?.probePods[role],
    agent: (node) => nodes.get(node)?.agent,
  };
}

/** record: the run's outputs under their save names, and run.json describing them. */
function record(
  runId: string,
  req: TraceRequest,
  src: TraceTarget,
  dst: TraceTarget,
  resolved: ResolvedPod[],
  nodes: Map<string, TraceNode>,
  plan: TracePlan,
  runs: ProbeRun[],
  unplaced: { id: string }[],
  traffic: TrafficOutcome | undefined,
  warnings: string[],
): { files: MemoryFile[]; meta: TraceMeta } {
  const files: MemoryFile[] = [];
  const inputs: TraceMetaInput[] = [];
  for (const run of runs) {
    const { probe } = run.command;
    const file = run.launched ? `${probe.id}.${run.command.output === 'pcap' ? 'pcap' : 'txt'}` : undefined;
    if (file) files.push({ name: file, chunks: run.stdout });
    const t = run.command.target;
    inputs.push({
      id: probe.id,
      file,
      tool: probe.tool,
      format: run.command.format,
      point: probe.point,
      node: probe.node,
      status: isHubbleOff(run) ? `${HUBBLE_OFF} ${probe.node}` : probeStatus(run),
      place: `pod ${t.namespace}/${t.name}${t.container ? ` container ${t.container}` : ''}`,
      argv: run.command.argv,
      note: probe.note,
      stderr: run.stderr.length > STDERR_IN_META ? run.stderr.slice(-STDERR_IN_META) : run.stderr || undefined,
    });
  }
  const unplacedIds = new Set(unplaced.map((u) => u.id));
  const started = new Set(runs.map((r) => r.command.probe.id));
  for (const probe of plan.probes) {
    if (started.has(probe.id)) continue;
    const why = unplacedIds.has(probe.id) ? 'no pod to run it in' : 'the trace ended before it started';
    inputs.push({ id: probe.id, tool: probe.tool, format: formatOf(probe.tool), point: probe.point, node: probe.node, status: `skipped: ${why}` });
  }
  for (const s of plan.skipped) inputs.push({ id: s.id, tool: s.tool, format: formatOf(s.tool), point: s.point, node: s.node, status: `skipped: ${s.reason}` });

  const endpoints: EndpointInfo[] = resolved.map((r) => ({
    ...(r.endpoint ?? { id: null, identity: null, labels: [], source: 'cilium-endpoint' as const }),
    ips: r.endpoint?.ips.length ? r.endpoint.ips : r.pod.ips,
    pod: { namespace: r.pod.namespace, name: r.pod.name },
    node: r.pod.node,
  }));
  const meta: TraceMeta = {
    kubectlDatapathRun: { version: 1, runId, startedAt: new Date().toISOString() },
    src: `${ref(src)} ${src.ip}`,
    dst: `${ref(dst)} ${dst.ip}`,
    traffic: traffic?.from ? `${describeTraffic(req.traffic)} x${req.count} from ${traffic.from}: ${lastLine(traffic.output)}` : describeTraffic(req.traffic),
    nodes: [...nodes.values()].map((n) => ({
      name: n.name,
      internalIp: n.internalIp,
      agent: n.agent ? `${n.agent.namespace}/${n.agent.name}` : undefined,
      probePods: Object.values(n.probePods).map((p) => `${p!.namespace}/${p!.name}`),
    })),
    endpoints,
    inputs,
    warnings: [...warnings],
  };
  files.push({ name: TRACE_META_FILE, chunks: [new TextEncoder().encode(`${JSON.stringify(meta, null, 2)}\n`)] });
  return { files, meta };
}

function formatOf(tool: ProbeTool): TraceMetaInput['format'] {
  return tool === 'tcpdump' ? 'pcap' : tool;
}

async function save(target: TraceSave, files: MemoryFile[], progress: TraceProgress): Promise<void> {
  try {
    for (const f of files) await target.write(f.name, f.chunks);
  } catch (err) {
    progress.warn(`--save ${target.where}: ${(err as Error).message}`);
  }
}
