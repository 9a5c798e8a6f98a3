import { randomBytes } from 'node:crypto';
import { TRACE_META_FILE, type TraceMeta, type TraceMetaInput } from '../core/analyze/trace-meta.js';
import { DatapathError, NotFoundError } from '../core/errors.js';
import type { EndpointInfo } from '../core/model/endpoint.js';
import type { HopReport } from '../core/model/report.js';
import { involvedNodes, planProbePods, planTrace, type PlannedProbe, type ProbePodNeed, type ProbeTool, type TraceNode, type TracePlan, type TraceTarget, type Traffic } from '../core/plan.js';
import { hubbleOff } from '../probes/hubble.js';
import type { PwruFunctions } from '../probes/pwru.js';
import { commandFor } from '../probes/index.js';
import type { CommandContext, ProbeCommand } from '../probes/probe-command.js';
import { describeTraffic } from '../probes/traffic.js';
import { analyze } from './analyze.js';
import { memoryCatalog, type MemoryFile } from './memory-inputs.js';
import type { ExecPort, KubePort, PodInfo, PodRef } from './ports.js';
import { deleteProbePods, discoverNode, podHandle, startProbePods, type ProbePodsOutcome } from './probe-pods.js';
import { lastLine, probeStatus, sleep, startProbe, stopProbes, untilQuiet, type ProbeRun } from './run-probes.js';
import { sendTraffic, type TrafficOutcome } from './send-traffic.js';
import { POLICY_FILE, policyFile, readPolicies, type PolicyRead } from './read-policies.js';
import { describeCriticalPath, StepClock } from './step-clock.js';
import { serviceTableOf, type ServiceTarget } from './service-target.js';

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
  /** The kernel functions pwru attaches to: those the report reads (default), or all. */
  pwruFunctions?: PwruFunctions;
  /** DST is a backend of this Service: the traffic goes to its frontend (service-target.ts). */
  toService?: ServiceTarget;
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
 * trace: resolve both pods, start probe pods and probes in parallel, wait until every probe is
 * ready, send the traffic (or observe), collect (stop everything, delete what was created), and
 * build the report through the same path as `analyze` (so `--save` + `analyze DIR` agree).
 * Collecting runs on every path: success, error, timeout and Ctrl-C alike.
 */
export async function trace(req: TraceRequest, ports: TracePorts, progress: TraceProgress, signal: AbortSignal): Promise<TraceOutcome> {
  const run = new TraceRun(req, ports, progress, signal);
  try {
    const ends = await run.resolve();
    await run.start(ends);
    if (await run.ready()) await run.sendTraffic(ends);
  } catch (err) {
    run.failure = err;
  }
  await run.collect();
  return run.report();
}

/** Both ends of the trace as the plan sees them, with what resolving them gave. */
interface Ends {
  src: TraceTarget;
  dst: TraceTarget;
  srcR: ResolvedPod;
  dstR: ResolvedPod;
}

/**
 * TraceRun: the state one trace builds up, step by step (see `trace`): the nodes and their probe
 * pods, the probes started and their readiness, the traffic sent, the warnings for the report.
 * Each probe starts as soon as what it needs is there, not when everything is: the probe pods
 * once the pods' nodes are known, the probes in the agents (monitor, iptables, hubble) once the
 * endpoints are, pwru and a node's netns discovery once their pod runs and the endpoints are
 * known (discovery needs the lxc ifindex and MAC; pwru's start-up, BTF and attaching, is
 * CPU-heavy on the node whose agent is still being asked, and a pod seldom runs before the agent
 * answers), the captures after discovery.
 */
class TraceRun {
  readonly runId: string;
  /** The trace's own `--timeout`. */
  readonly deadline: AbortSignal;
  /** Ctrl-C or the deadline: every wait ends on it. */
  readonly stopSignal: AbortSignal;
  failure: unknown;
  private readonly warnings: string[] = [];
  private readonly nodes = new Map<string, TraceNode>();
  /** Probe pods created (to delete), whether or not they came to run. */
  private readonly created: PodRef[] = [];
  private readonly runs: ProbeRun[] = [];
  /** Each probe's readiness, settled once it is ready or has failed. */
  private readonly watching: Promise<void>[] = [];
  private readonly ctx: CommandContext;
  private readonly readyTimeoutMs: number;
  private settled = 0;
  private readyCount = 0;
  /** The number of probes, once every one is started; early ones only count until then. */
  private total: number | undefined;
  private resolved: Ends | undefined;
  private plan: TracePlan = { probes: [], skipped: [] };
  private unplaced: { command?: ProbeCommand; id: string }[] = [];
  private traffic: TrafficOutcome | undefined;
  /** The source node agent's service table when tracing to a Service, as one more input. */
  private serviceTable: MemoryFile | undefined;
  /** The probes ready when the traffic (or the observation) began, once it ended without a stop: they watched all of it. */
  private watchedAll = new Set<string>();
  private collected = false;
  private needs: ProbePodNeed[] = [];
  private podsStarting: Promise<ProbePodsOutcome> | undefined;
  /** Ends the wait for probe pods when the trace ends before they run (say, a pod that does not resolve). */
  private readonly podsAbort = new AbortController();
  private endpointsKnown: (ends: [TraceTarget, TraceTarget]) => void = () => undefined;
  private readonly whenEndpointsKnown = new Promise<[TraceTarget, TraceTarget]>((resolve) => (this.endpointsKnown = resolve));
  private readonly discoveries: Promise<void>[] = [];
  private policies: Promise<PolicyRead> | undefined;
  /** Every step's start and end, for the critical path `--debug` prints. */
  private readonly clock = new StepClock();
  /** Step names of the probe pods and discoveries, which the probes started after them waited for. */
  private readonly podSteps: string[] = [];
  private readonly discoverySteps: string[] = [];

  constructor(
    private readonly req: TraceRequest,
    private readonly ports: TracePorts,
    private readonly progress: TraceProgress,
    private readonly signal: AbortSignal,
  ) {
    this.runId = req.runId ?? randomBytes(4).toString('hex');
    this.deadline = AbortSignal.timeout(req.timeoutS * 1000);
    this.stopSignal = AbortSignal.any([signal, this.deadline]);
    this.ctx = commandContext(this.runId, req, this.nodes);
    this.readyTimeoutMs = (req.readyTimeoutS ?? DEFAULT_READY_TIMEOUT_S) * 1000;
  }

  private warn(line: string): void {
    // Both ends on one node meet the same problem (its agent): once is enough.
    if (this.warnings.includes(line)) return;
    this.warnings.push(line);
    this.progress.warn(line);
  }

  /**
   * Step 1, resolve both pods to their endpoints and agents. The pods' nodes and addresses are
   * known long before their endpoints (the agents are asked for those): the probe pods are
   * created as soon as the pods are read, and start while the agents answer.
   */
  async resolve(): Promise<Ends> {
    const { req, ports } = this;
    // The policies explain a drop in the report; read alongside, awaited only by the report.
    this.policies = readPolicies(ports.kube);
    this.policies.catch(() => undefined);
    this.progress.step(`resolving ${ref(req.src)} and ${ref(req.dst)}`);
    const { clock } = this;
    clock.start(RESOLVED);
    clock.start(PODS_READ);
    const resolving = Promise.all([ports.resolve(req.src), ports.resolve(req.dst)]);
    resolving.catch(() => undefined); // awaited below, after the placement
    const placement = await Promise.all([ports.kube.getPod(req.src), ports.kube.getPod(req.dst)]).catch(() => undefined);
    clock.end(PODS_READ);
    const early = placement && placementTargets(placement[0], placement[1]);
    if (early) this.createProbePods(early);

    const [srcR, dstR] = await resolving;
    const [src, dst] = targets(srcR, dstR);
    await describeNodes(ports.kube, this.nodes, src, dst, [srcR, dstR]);
    this.resolved = { src, dst, srcR, dstR };
    clock.end(RESOLVED);
    this.endpointsKnown([src, dst]);
    this.progress.debug?.(`resolved ${ref(req.src)} on ${src.node} and ${ref(req.dst)} on ${dst.node}`);
    for (const p of [...(srcR.problems ?? []), ...(dstR.problems ?? [])]) this.warn(p);
    if (!early) this.createProbePods([src, dst]);
    return this.resolved;
  }

  /**
   * Step 2, start every probe: those in the agents at once, then, once the probe pods run and
   * each node's netns and devices are discovered, the rest of the plan.
   */
  async start({ src, dst }: Ends): Promise<void> {
    const { req, progress } = this;
    if (this.stopSignal.aborted) return;
    const inAgents = this.startWhere([src, dst], (p) => p.place.kind === 'agent', [RESOLVED]);
    if (inAgents.length) progress.step(`starting ${inAgents.length} probe${inAgents.length === 1 ? '' : 's'} in the Cilium agents`);
    if (this.podsStarting) {
      const pods = await this.podsStarting;
      progress.debug?.(`probe pods running: ${[...this.nodes.values()].reduce((n, x) => n + Object.keys(x.probePods).length, 0)} of ${this.needs.length}`);
      if (pods.forbidden) this.warn(`probe pods are not allowed in ${req.probeNamespace} (${pods.forbidden}): tracing without them, with ${allowedWithoutPods(req.probes)}`);
      await Promise.all(this.discoveries);
      if (this.discoveries.length) progress.debug?.('pod netns, tunnel and underlay devices discovered');
    }
    this.plan = planTrace(src, dst, [...this.nodes.values()], req.probes, req.toService?.frontend.ip);
    const started = new Set(this.runs.map((r) => r.command.probe.id));
    const commands = this.plan.probes.filter((p) => !started.has(p.id)).map((p) => ({ id: p.id, command: commandFor(p, this.ctx) }));
    this.unplaced = commands.filter((c) => !c.command);
    const placed = commands.flatMap((c) => (c.command ? [c.command] : []));
    if (this.stopSignal.aborted) return;

    const nodeCount = new Set(placed.map((c) => c.probe.node)).size;
    if (placed.length) progress.step(`starting ${placed.length} ${started.size ? 'more ' : ''}probes on ${nodeCount} node${nodeCount === 1 ? '' : 's'}`);
    this.launch(placed, [RESOLVED, ...this.podSteps, ...this.discoverySteps]);
    this.total = this.runs.length;
    this.showReady();
  }

  /** Step 3, wait until every probe is ready or has failed; false when nothing should be sent. */
  async ready(): Promise<boolean> {
    if (this.stopSignal.aborted) return false;
    await Promise.race([Promise.all(this.watching), aborted(this.stopSignal)]);
    if (this.stopSignal.aborted) return false;
    // Hubble is on by default and absent on many clusters: its probe failing says so in one line.
    for (const r of this.runs) if (isHubbleOff(r)) this.warn(hubbleOff(r.command.probe.node, r.failure));
    if (this.readyCount === 0) {
      this.warn('no probe became ready: nothing was sent');
      return false;
    }
    return true;
  }

  /** Step 4, send the traffic (or observe for `--duration`), then listen until the probes are quiet. */
  async sendTraffic({ src, dst }: Ends): Promise<void> {
    const { req, progress, stopSignal } = this;
    const readyBefore = this.runs.filter((r) => r.state === 'ready').map((r) => r.command.probe.id);
    if (req.traffic.kind === 'none') {
      progress.step(`observing for ${req.durationS} s`);
      await sleep(req.durationS * 1000, stopSignal);
      if (!stopSignal.aborted) this.watchedAll = new Set(readyBefore);
      return;
    }
    // To a Service: its frontend, and what the source node's agent load-balances it to at this moment.
    const to = req.toService ? { ...dst, ip: req.toService.frontend.ip } : dst;
    if (req.toService && this.resolved?.srcR.agent) {
      const table = await serviceTableOf(this.ports.exec, this.resolved.srcR.agent, src.node, stopSignal);
      this.serviceTable = table.file;
      if (table.problem) this.warn(table.problem);
    }
    progress.step(`sending ${describeTraffic(req.traffic)} from ${ref(req.src)} to ${to.ip}`);
    this.clock.start(TRAFFIC, this.runs.map((r) => r.command.probe.id));
    this.traffic = await sendTraffic(this.ports.exec, req.traffic, req.count, src, to, this.nodes.get(src.node), stopSignal);
    this.clock.end(TRAFFIC);
    if (this.traffic.problem) this.warn(this.traffic.problem);
    const quietMs = req.quietMs ?? DEFAULT_QUIET_MS;
    const graceMs = req.graceMs ?? DEFAULT_GRACE_MS;
    progress.debug?.(`traffic ${this.traffic.problem ? 'failed' : 'sent'}; listening for late events until the probes are quiet for ${quietMs} ms, at most ${graceMs} ms`);
    this.clock.start(QUIET, [TRAFFIC]);
    const waited = Math.round(await untilQuiet(this.runs, quietMs, graceMs, stopSignal));
    if (!stopSignal.aborted) this.watchedAll = new Set(readyBefore);
    this.clock.end(QUIET);
    progress.debug?.(waited < graceMs ? `probes quiet ${waited} ms after the traffic` : `probes not quiet yet ${waited} ms after the traffic (the limit): stopping them`);
  }

  /** Step 5, stop every probe and delete every probe pod, exactly once, whatever happened before. */
  async collect(): Promise<void> {
    if (this.collected) return;
    this.collected = true;
    const { ports, progress, runs, created } = this;
    // Pods still being created are waited for (not for them to run), so none is left behind.
    this.podsAbort.abort();
    await this.podsStarting;
    if (runs.length || created.length) progress.step('collecting');
    this.clock.start(COLLECT, [QUIET, TRAFFIC, ...runs.map((r) => r.command.probe.id), RESOLVED]);
    await stopProbes(ports.exec, runs, (node) => this.nodes.get(node)?.probePods.capture);
    progress.debug?.(`${runs.length} probes stopped`);
    for (const r of runs) for (const p of r.cleanupProblems) this.warn(p);
    for (const p of await deleteProbePods(ports.kube, created)) this.warn(p);
    if (created.length) progress.debug?.(`${created.length} probe pods deleted`);
    this.clock.end(COLLECT);
  }

  /** Step 6, the report from what was collected, through the same path as `analyze`. */
  async report(): Promise<TraceOutcome> {
    const { req, failure } = this;
    // Without both ends resolved there is nothing to report: the probe pods created meanwhile
    // are gone, and the error (a missing pod, no IP yet) is the caller's, as it always was.
    if (this.resolved === undefined) throw failure;
    const { src, dst, srcR, dstR } = this.resolved;
    if (failure !== undefined) {
      // Cluster errors after the start degrade the report; anything else is a bug and is rethrown.
      if (!(failure instanceof DatapathError)) throw failure;
      this.warn(`the trace stopped early: ${failure.message}`);
    }
    const interrupted = this.signal.aborted;
    const timedOut = !interrupted && this.deadline.aborted;
    if (interrupted) this.warnings.push('interrupted (Ctrl-C): the report holds what was collected until then');
    if (timedOut) this.warn(`the trace reached its --timeout of ${req.timeoutS} s: the report holds what was collected until then`);
    if (this.runs.some((r) => probeStatus(r) !== 'ok')) for (const line of await this.deletedEnds()) this.warn(line);
    const policies = await this.policies?.catch((e: unknown) => {
      if (!(e instanceof DatapathError)) throw e;
      return { objects: [], read: [], notRead: [`network policies: ${e.message}`], warning: `network policies not read: ${e.message}` };
    });
    if (policies?.warning) this.warn(policies.warning);
    const { files, meta } = record(this.runId, req, src, dst, [srcR, dstR], this.nodes, this.plan, this.runs, this.unplaced, this.traffic, this.warnings, policies, this.watchedAll);
    if (this.serviceTable) files.push(this.serviceTable);
    this.clock.start(REPORT, [COLLECT]);
    const report = await analyze({ paths: files.map((f) => f.name).sort(), points: [], endpointFiles: [], maxPackets: req.maxPackets }, memoryCatalog(files));
    this.clock.end(REPORT);
    if (this.progress.debug) for (const line of describeCriticalPath(this.clock.criticalPath(REPORT))) this.progress.debug(`critical path: ${line}`);
    if (this.ports.save) await save(this.ports.save, files, this.progress);
    const partial = interrupted || timedOut || failure !== undefined || this.traffic?.problem !== undefined || meta.inputs.some((i) => i.status !== 'ok' && !i.status.startsWith(HUBBLE_OFF));
    return { report, partial, interrupted, timedOut };
  }

  /** Where probes failed: whether a traced pod was deleted meanwhile, which explains them (one line each). */
  private async deletedEnds(): Promise<string[]> {
    const gone = await Promise.all(
      [this.req.src, this.req.dst].map((p) => this.ports.kube.getPod(p).then(() => undefined, (e: unknown) => (e instanceof NotFoundError ? p : undefined))),
    );
    return gone.flatMap((p) => (p ? [`${ref(p)} was deleted during the trace: the probes in its netns ended with it; trace pods that keep running`] : []));
  }

  /** Creates the probe pods the plan needs on the involved nodes; each starts its probes once it runs. */
  private createProbePods(ends: [TraceTarget, TraceTarget]): void {
    const { req, nodes } = this;
    this.needs = planProbePods(ends[0], ends[1], req.probes);
    if (!this.needs.length || this.stopSignal.aborted) return;
    for (const name of involvedNodes(ends[0], ends[1])) if (!nodes.has(name)) nodes.set(name, emptyNode(name));
    this.progress.step(`creating ${this.needs.length} probe pod${this.needs.length === 1 ? '' : 's'} on ${nodes.size} node${nodes.size === 1 ? '' : 's'}`);
    const { clock } = this;
    const podStep = (need: ProbePodNeed) => `probe pod ${need.role} on ${need.node}`;
    for (const need of this.needs) {
      clock.start(podStep(need), [PODS_READ, RESOLVED]);
      this.podSteps.push(podStep(need));
    }
    const onRunning = (need: ProbePodNeed) => {
      clock.end(podStep(need));
      this.progress.debug?.(`${podStep(need)} running`);
      if (need.role === 'pwru') {
        void this.whenEndpointsKnown.then((known) => this.startWhere(known, (p) => p.tool === 'pwru' && p.node === need.node, [podStep(need), RESOLVED]));
      }
      const node = nodes.get(need.node);
      if (need.role !== 'capture' || !node) return;
      const step = `discovery on ${need.node}`;
      this.discoverySteps.push(step);
      const discovery = this.whenEndpointsKnown.then(async ([a, b]) => {
        clock.start(step, [podStep(need), RESOLVED]);
        await discoverNode(this.ports.exec, node, [a, b], peerIp(node, nodes), this.stopSignal);
        clock.end(step);
        // This node's captures need nothing more: they start now, not when every node's pods run.
        const captures = this.startWhere([a, b], (p) => p.node === need.node && p.place.kind === 'probe-pod' && p.place.role === 'capture', [step]);
        if (captures.length) this.progress.step(`starting ${captures.length} capture${captures.length === 1 ? '' : 's'} on ${need.node}`);
      });
      discovery.catch(() => undefined); // awaited in start(), once every pod is up; not unhandled meanwhile
      this.discoveries.push(discovery);
    };
    const onPulling = (need: ProbePodNeed, image: string) => {
      clock.note(podStep(need), `pulled ${image}`);
      this.progress.step(`pulling ${image} on node ${need.node}`);
      this.progress.debug?.(`${podStep(need)}: pulling ${image}`);
    };
    const options = { namespace: req.probeNamespace, probeImage: req.probeImage, pwruImage: req.pwruImage, runId: this.runId, timeoutS: req.timeoutS };
    this.podsStarting = startProbePods(this.ports.kube, this.needs, nodes, options, this.created, AbortSignal.any([this.stopSignal, this.podsAbort.signal]), onRunning, onPulling);
  }

  /** Starts the probes that the plan for what is known now places, that `fits` picks, and that are not running yet. */
  private startWhere([a, b]: [TraceTarget, TraceTarget], fits: (p: PlannedProbe) => boolean, after: readonly string[]): ProbeCommand[] {
    if (this.collected || this.stopSignal.aborted) return [];
    const started = new Set(this.runs.map((r) => r.command.probe.id));
    const commands = planTrace(a, b, [...this.nodes.values()], this.req.probes, this.req.toService?.frontend.ip)
      .probes.filter((p) => fits(p) && !started.has(p.id))
      .flatMap((p) => commandFor(p, this.ctx) ?? []);
    this.launch(commands, after);
    return commands;
  }

  /** Starts the commands; `after` names the steps they waited for. */
  private launch(commands: ProbeCommand[], after: readonly string[]): void {
    for (const c of commands) {
      this.clock.start(c.probe.id, after);
      const r = startProbe(this.ports.exec, c, this.readyTimeoutMs);
      this.runs.push(r);
      this.watching.push(
        r.ready.then((ok) => {
          this.clock.end(c.probe.id);
          this.settled++;
          if (ok) this.readyCount++;
          this.progress.debug?.(`${c.probe.id} ${ok ? 'ready' : `failed: ${r.failure}`}`);
          this.showReady();
        }),
      );
    }
  }

  private showReady(): void {
    const { total, settled, readyCount } = this;
    if (total === undefined || settled === 0) return;
    this.progress.step(`ready ${readyCount}/${total}${settled > readyCount ? ` (${settled - readyCount} failed)` : ''}`);
    if (settled === total) this.progress.debug?.(readyCount === total ? `all ${readyCount} probes ready` : `${readyCount} of ${total} probes ready`);
  }
}

/** Step names of the critical path (the probes' steps are their ids, the pods' `probe pod ROLE on NODE`). */
const PODS_READ = 'pods read';
const RESOLVED = 'endpoints resolved';
const TRAFFIC = 'traffic';
const QUIET = 'quiet window';
const COLLECT = 'probes stopped, pods deleted';
const REPORT = 'report';

/** The status of a hubble probe whose node has no Hubble: not a gap of the trace, which never asked for it. */
const HUBBLE_OFF = 'skipped: Hubble is off on';

/**
 * Hubble is off where `hubble status` itself failed: the command ended before ready with an exit
 * code of its own. Killed by a signal (its agent pod deleted: 137) or a stream cut without an exit
 * status says nothing about Hubble: that probe failed, and the report is partial.
 */
function isHubbleOff(run: ProbeRun): boolean {
  const code = run.result?.exitCode;
  return run.command.format === 'hubble' && run.state === 'failed' && !run.stopRequested && typeof code === 'number' && code > 0 && code < 128;
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
    pwruFunctions: req.pwruFunctions,
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
  policies: PolicyRead | undefined,
  watchedAll: ReadonlySet<string>,
): { files: MemoryFile[]; meta: TraceMeta } {
  const files: MemoryFile[] = [];
  if (policies?.objects.length) files.push({ name: POLICY_FILE, chunks: [policyFile(policies)] });
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
      // Ready before the traffic and still running when stopped after it (not ended early, not cut).
      ...(watchedAll.has(probe.id) && run.stopRequested && !run.truncated ? { watchedTraffic: true } : {}),
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
    ...(policies ? { policies: { read: policies.read, notRead: policies.notRead } } : {}),
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
