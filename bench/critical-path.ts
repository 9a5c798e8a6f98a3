import { pullMs, type LatencyProfile } from '../test/lab/latency.js';

/**
 * A trace's critical path on a latency profile (issue 13): the longest chain of steps that cannot
 * overlap, whatever the plugin's design, computed from the profile alone:
 *
 *   resolve (the two pods read, one API round) -> probe pods created (one API request) ->
 *   each pod's start with the images its node lacks (pulled one at a time per node, in the best
 *   order) -> its probes ready (a capture pod: one exec for discovery, one for tcpdump; a pwru
 *   pod: one exec and the attaching of each function) -> traffic (one exec) -> quiet window.
 *
 * The probes in the agents (monitor: the endpoint reads, one exec to ask the agent, one for the
 * monitor and its connect) run beside the pods and count only when they are the longer chain.
 * Start-up of the plugin process, stopping the probes, deleting the pods and building the report
 * are not part of it: they are what the ratio's margin is for.
 */
export interface TraceScenario {
  /** Per involved node: the images its probe pods use and which of them the node already has. */
  nodes: { name: string; captureImage: string; pwruImage?: string; cached: string[] }[];
  /** Functions pwru attaches to (its progress bar's count). */
  pwruFunctions: number;
  quietMs: number;
}

export interface CriticalPath {
  totalS: number;
  /** The chain, step by step, in seconds. */
  steps: [step: string, seconds: number][];
}

/** execMs: one exec's request and stream set-up. */
function execMs(p: LatencyProfile): number {
  return p.apiRequestMs + p.execSetupMs;
}

/** When a node's probes are ready, from the pods' creation, for the best order of its pulls; with the chain that decides it. */
function nodeReady(p: LatencyProfile, node: TraceScenario['nodes'][number], pwruFunctions: number): { ms: number; steps: [string, number][] } {
  const pods: { role: string; image: string; probesMs: number; probes: string }[] = [
    { role: 'capture', image: node.captureImage, probesMs: 2 * execMs(p), probes: 'discovery exec + tcpdump exec' },
  ];
  if (node.pwruImage) pods.push({ role: 'pwru', image: node.pwruImage, probesMs: execMs(p) + pwruFunctions * p.pwruAttachMsPerFunction, probes: `pwru exec + attach ${pwruFunctions} functions` });
  const orders = pods.length === 2 ? [pods, [pods[1], pods[0]]] : [pods];
  let best: { ms: number; steps: [string, number][] } | undefined;
  for (const order of orders) {
    let pulledMs = 0;
    const pulled = new Set(node.cached);
    let worst: { ms: number; steps: [string, number][] } | undefined;
    for (const pod of order) {
      const pulls: [string, number][] = [];
      if (!pulled.has(pod.image)) {
        pulled.add(pod.image);
        pulledMs += pullMs(p, pod.image);
      }
      if (pulledMs > 0) pulls.push([`pulls on ${node.name} until ${pod.image} (one at a time)`, pulledMs / 1000]);
      const ms = pulledMs + p.podStartMs + pod.probesMs;
      const steps: [string, number][] = [...pulls, [`${pod.role} pod start on ${node.name}`, p.podStartMs / 1000], [`${pod.probes} on ${node.name}`, pod.probesMs / 1000]];
      if (!worst || ms > worst.ms) worst = { ms, steps };
    }
    if (!best || worst!.ms < best.ms) best = worst;
  }
  return best!;
}

export function criticalPath(p: LatencyProfile, s: TraceScenario): CriticalPath {
  const resolve: [string, number] = ['resolve: the two pods read', p.apiRequestMs / 1000];
  const create: [string, number] = ['probe pods created', p.apiRequestMs / 1000];
  const slowest = s.nodes.map((n) => nodeReady(p, n, s.pwruFunctions)).sort((a, b) => b.ms - a.ms)[0];
  const podChainMs = p.apiRequestMs + slowest.ms;
  // Endpoint reads (CiliumEndpoint, agent pod list), the agent asked (exec), then the monitor's exec and connect.
  const agentChainMs = 2 * p.apiRequestMs + 2 * execMs(p) + p.monitorConnectMs;
  const ready: [string, number][] =
    podChainMs >= agentChainMs ? [create, ...slowest.steps] : [['endpoints read, agent asked, monitor started and connected', agentChainMs / 1000]];
  const steps: [string, number][] = [resolve, ...ready, ['traffic (one exec)', execMs(p) / 1000], ['quiet window', s.quietMs / 1000]];
  return { totalS: steps.reduce((t, [, sec]) => t + sec, 0), steps };
}
