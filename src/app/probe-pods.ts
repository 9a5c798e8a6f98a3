import { DatapathError, EXIT } from '../core/errors.js';
import { findPodNetns, parseLinkNames, parseNetnsLinks, parseRouteDev, tunnelDeviceOf } from '../core/parse/ip-netns.js';
import type { PodHandle, ProbePodNeed, ProbePodRole, TraceNode, TraceTarget } from '../core/plan.js';
import { netnsLinksArgv, nodeLinksArgv, routeGetArgv } from '../probes/discovery.js';
import { PROBE_CONTAINER } from '../probes/probe-command.js';
import type { ExecPort, KubePort, PodRef, ProbePodSpec } from './ports.js';
import { describeExit, sleep, whileUnavailable } from './run-probes.js';

/** Labels every probe pod carries: `cleanup` finds them by the first, one run's by the second. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'kubectl-datapath';
export const RUN_LABEL = 'kubectl-datapath/run';
export const ROLE_LABEL = 'kubectl-datapath/role';

/**
 * Default images and the tools each must contain:
 * - probe image: sh, timeout, tcpdump, ip (iproute2, with `ip -all netns exec`), nsenter, ping, nc.
 * - pwru image: sh, timeout, pwru (v1.0.0 or later: pcap-filter expressions).
 */
export const DEFAULT_PROBE_IMAGE = 'docker.io/nicolaka/netshoot:v0.13';
export const DEFAULT_PWRU_IMAGE = 'docker.io/cilium/pwru:v1.0.9';

/**
 * Capabilities instead of `privileged` (retina's least-privilege pattern): captures need raw
 * sockets and setns into pod netns; pwru needs BPF, perf events, kallsyms addresses and memlock.
 */
const CAPABILITIES: Record<ProbePodRole, string[]> = {
  // SYS_PTRACE: the host's /run/netns through /proc/1/root when it is not mounted (hostPID).
  capture: ['NET_ADMIN', 'NET_RAW', 'SYS_ADMIN', 'SYS_PTRACE'],
  pwru: ['SYS_ADMIN', 'BPF', 'PERFMON', 'NET_ADMIN', 'SYSLOG', 'SYS_RESOURCE'],
};
/** The pod outlives the trace's own deadline by this much before the cluster kills it. */
const DEADLINE_MARGIN_S = 120;
const RUNNING_TIMEOUT_MS = 120_000;

export interface ProbePodOptions {
  namespace: string;
  probeImage: string;
  pwruImage: string;
  runId: string;
  /** The trace's own time limit, in seconds. */
  timeoutS: number;
}

/** probePodSpec: one helper pod, pinned to its node, labelled with the run, ended by the cluster at its deadline. */
export function probePodSpec(need: ProbePodNeed, index: number, opts: ProbePodOptions): ProbePodSpec {
  return {
    namespace: opts.namespace,
    name: `datapath-${opts.runId}-${need.role}-${index}`,
    node: need.node,
    image: need.role === 'pwru' ? opts.pwruImage : opts.probeImage,
    labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [RUN_LABEL]: opts.runId, [ROLE_LABEL]: need.role },
    activeDeadlineSeconds: Math.ceil(opts.timeoutS) + DEADLINE_MARGIN_S,
    capabilities: CAPABILITIES[need.role],
    privileged: false,
    container: PROBE_CONTAINER,
    hostNetwork: true,
    hostPID: true,
  };
}

/** ProbePodsOutcome: which pods run, and for the others why not (forbidden is said once, by the caller). */
export interface ProbePodsOutcome {
  forbidden?: string;
}

/**
 * startProbePods creates the pods in parallel and waits for them to run. Every pod the API
 * accepted is added to `created` at once, so the caller deletes it whatever happens next.
 * `onRunning` is told of each pod as soon as it runs, so its work can start before the others'.
 */
export async function startProbePods(
  kube: KubePort,
  needs: ProbePodNeed[],
  nodes: Map<string, TraceNode>,
  opts: ProbePodOptions,
  created: PodRef[],
  signal: AbortSignal,
  onRunning?: (need: ProbePodNeed) => void,
  onPulling?: (need: ProbePodNeed, image: string) => void,
): Promise<ProbePodsOutcome> {
  const outcome: ProbePodsOutcome = {};
  await Promise.all(
    needs.map(async (need, i) => {
      const node = nodes.get(need.node);
      if (!node) return;
      const spec = probePodSpec(need, i, opts);
      const ref = { namespace: spec.namespace, name: spec.name };
      try {
        if (signal.aborted) throw new DatapathError('interrupted', EXIT.interrupted);
        await kube.createPod(spec);
        created.push(ref);
        const running = new AbortController();
        if (onPulling) void watchPulls(kube, ref, AbortSignal.any([signal, running.signal]), (image) => onPulling(need, image));
        await kube.waitForRunning(ref, RUNNING_TIMEOUT_MS, signal).finally(() => running.abort());
        node.probePods[need.role] = { ...ref, container: PROBE_CONTAINER };
        onRunning?.(need);
      } catch (err) {
        const message = (err as Error)?.message ?? String(err);
        if (err instanceof DatapathError && err.exitCode === EXIT.forbidden) {
          outcome.forbidden ??= message;
          node.probePodProblems[need.role] = `probe pods are forbidden in ${opts.namespace}`;
        } else {
          const pull = /ImagePullBackOff|ErrImagePull|InvalidImageName/.test(message) ? `: the node cannot pull ${spec.image}; check the name and that the node reaches its registry, or give ${need.role === 'pwru' ? '--pwru-image' : '--probe-image'}` : '';
          node.probePodProblems[need.role] = `the ${need.role} pod ${spec.namespace}/${spec.name} did not start: ${message}${pull}`;
        }
      }
    }),
  );
  return outcome;
}

const PULL_POLL_MS = 500;
const PULLING = /^Pulling image "(.+)"$/;

/**
 * watchPulls reads the pod's events until it runs (or the signal ends it) and tells each image
 * the kubelet starts to pull, once: a first trace on a node waits seconds for the probe images,
 * which the progress line then names. Events are for people only: a failed read (events not
 * allowed, say) ends the watch without a word.
 */
async function watchPulls(kube: KubePort, ref: PodRef, signal: AbortSignal, onPull: (image: string) => void): Promise<void> {
  const told = new Set<string>();
  while (!signal.aborted) {
    await sleep(PULL_POLL_MS, signal);
    if (signal.aborted || !kube.podEvents) return;
    let events: { reason: string; message: string }[];
    try {
      events = await kube.podEvents(ref);
    } catch {
      return;
    }
    for (const e of events) {
      const image = e.reason === 'Pulling' ? PULLING.exec(e.message)?.[1] : undefined;
      if (image && !told.has(image) && !signal.aborted) {
        told.add(image);
        onPull(image);
      }
    }
  }
}

/**
 * discoverNode asks the node's capture pod what planning needs: the netns of the traced pods on
 * the node, its tunnel device, and the device towards the other node. A failed question leaves
 * its fact unknown with the reason; the plan falls back or skips.
 */
export async function discoverNode(exec: ExecPort, node: TraceNode, targets: TraceTarget[], peerIp: string | undefined, signal: AbortSignal): Promise<void> {
  const pod = node.probePods.capture;
  if (!pod) return;
  const run = (argv: string[]) => exec.exec({ pod, container: pod.container, argv, collect: true, signal: AbortSignal.any([signal, AbortSignal.timeout(15_000)]) });
  const local = targets.filter((t) => t.node === node.name && !t.hostNetwork);
  const [netns, links, route] = await Promise.all([
    local.length ? run(netnsLinksArgv()) : undefined,
    run(nodeLinksArgv()),
    peerIp ? run(routeGetArgv(peerIp)) : undefined,
  ]);
  node.netnsProblems ??= {};
  if (netns) {
    const found = netns.exitCode === 0 ? parseNetnsLinks(netns.stdout) : [];
    for (const t of local) {
      const key = `${t.namespace}/${t.name}`;
      if (netns.exitCode !== 0) {
        node.netnsProblems[key] = `the pod netns could not be listed: ${describeExit(netns)}`;
        continue;
      }
      const r = findPodNetns(found, t.lxcIfindex, t.mac);
      if (r.netns) node.netnsOfPod[key] = r.netns;
      else node.netnsProblems[key] = `the netns of ${key} was not found on ${node.name}: ${r.problem}`;
    }
  }
  if (links.exitCode === 0) node.tunnelDevice = tunnelDeviceOf(parseLinkNames(links.stdout));
  if (route?.exitCode === 0) node.underlay = parseRouteDev(route.stdout);
}

/** deleteProbePods deletes every pod the run created; returns one line per pod it could not delete. */
export async function deleteProbePods(kube: KubePort, created: PodRef[]): Promise<string[]> {
  const problems: string[] = [];
  await Promise.all(
    created.map(async (ref) => {
      const err = await whileUnavailable(
        () => kube.deletePod(ref).then(() => undefined, (e: unknown) => e),
        (e) => e,
      );
      if (err !== undefined) problems.push(`probe pod ${ref.namespace}/${ref.name} could not be deleted (${(err as Error)?.message ?? err}): run kubectl datapath cleanup`);
    }),
  );
  return problems;
}

/** podHandle: a PodRef as an exec target. */
export function podHandle(ref: PodRef, container?: string): PodHandle {
  return container ? { namespace: ref.namespace, name: ref.name, container } : { namespace: ref.namespace, name: ref.name };
}
