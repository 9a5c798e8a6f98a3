/**
 * The lab's life cycle: `up` builds the kernel side, starts the agents, writes state.json and
 * starts the API server; `down` removes everything a lab made, also after a partial or crashed
 * `up`; `status` says what is up. Used by test/lab/cli.ts and by the lab tests (each test file
 * runs its own instance, so several labs can exist side by side).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { startAgent, agentConfig } from './agents.js';
import { startPodServers } from './servers.js';
import { policyEndpoints, writePolicy } from '../policy/agent-files.js';
import { compileAll, missingTools } from './compile.js';
import { bundleEmulated } from '../emulated/bundle.js';
import { kernelFactsPath, type KernelFacts, type MonitorAggregation } from './kernel-facts.js';
import { buildNetwork, listNetns, type NetworkFacts } from './network.js';
import { DEFAULT_LAB_DIR, labPaths } from './paths.js';
import { ipBatch, LabError, tryRun } from './run.js';
import { netnsOfInstance, networkedPods, planTopology, VXLAN_IF, type DatapathMode, type Topology, type TunnelMode } from './topology.js';
import type { LabApi, LabNode, LabPod, LabState } from '../state.js';
import { describeLatency, latencyProfile, type LatencyProfileName } from '../latency.js';

export interface UpOptions {
  dir?: string;
  instance?: string;
  mode?: DatapathMode;
  tunnel?: TunnelMode;
  ciliumVersion?: string;
  monitorAggregation?: MonitorAggregation;
  /** The agent's Debug option (datapath debug messages, `cilium-dbg monitor -v` DEBUG lines); off by default, as in Cilium. */
  datapathDebug?: boolean;
  /** Hubble on the agents (default on): off, the emulated `hubble` fails as the real CLI without a Hubble socket. */
  hubble?: boolean;
  /** Start the API server (default true); tests of the kernel side alone skip it. */
  api?: boolean;
  /** The latency model (test/lab/latency.ts): `cloud` adds a managed cluster's waits; default `none`. */
  latency?: LatencyProfileName;
}

export interface UpResult {
  state: LabState;
  /** Seconds spent per phase and in total. */
  timings: Record<string, number>;
  /** Why the API server is not running, when it is not. */
  apiUnavailable?: string;
}

export interface DownResult {
  seconds: number;
  removedNetns: string[];
  killedPids: number[];
}

const DEFAULT_VERSION = '1.16.5';

/** Why this process cannot build a lab, or undefined. */
export function cannotRunReason(): string | undefined {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'the lab needs root (network namespaces, tc BPF): run it with sudo';
  return missingTools();
}

function seconds(since: number): number {
  return Math.round((performance.now() - since) / 10) / 100;
}

function toState(topology: Topology, facts: NetworkFacts, opts: Required<Omit<UpOptions, 'api' | 'instance'>>): LabState {
  const kernel = release();
  const nodes: LabNode[] = topology.nodes.map((n) => {
    const f = facts.nodes.get(n.name);
    if (!f) throw new LabError(`no facts for ${n.name}`);
    return {
      name: n.name, netns: n.netns, ip: n.ip, underlayIf: n.underlayIf, underlayMac: f.underlayMac,
      podCidr: n.podCidr, routerIp: n.routerIp, ciliumHostMac: f.ciliumHostMac,
      vxlanIf: opts.tunnel === 'vxlan' ? VXLAN_IF : undefined, kernel,
    };
  });
  const pods: LabPod[] = topology.pods.map((p) => {
    const base = { namespace: p.namespace, name: p.name, uid: p.uid, node: p.node, hostNetwork: p.hostNetwork, ip: p.ip, labels: p.labels, image: p.image, containers: p.containers };
    if (p.hostNetwork) return base;
    const f = facts.pods.get(p.uid);
    if (!f) throw new LabError(`no facts for pod ${p.name}`);
    return { ...base, netns: p.netns, mac: f.mac, lxc: { name: p.lxcName as string, ifindex: f.lxcIfindex, mac: f.lxcMac }, endpointId: p.endpointId, identity: p.identity };
  });
  const latency = opts.latency === 'none' ? {} : { latency: opts.latency };
  return { version: 1, dir: opts.dir, mode: opts.mode, tunnel: opts.tunnel, ciliumVersion: opts.ciliumVersion, createdAt: new Date().toISOString(), nodes, pods, ...latency };
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, JSON.stringify(value, null, 2) + '\n');
}

type ApiModule = { launchApiServer(state: LabState): Promise<LabApi>; stopApiServer(state: LabState): Promise<void> };

/** The API server module, when the API engineer's launch.ts exists. */
async function apiModule(): Promise<ApiModule | undefined> {
  const url = new URL('../api/launch.ts', import.meta.url);
  if (!existsSync(url)) return undefined;
  return (await import('../api/launch.js')) as ApiModule;
}

/** Brings a lab up; on any failure removes what it made and rethrows. */
export async function labUp(options: UpOptions = {}): Promise<UpResult> {
  const reason = cannotRunReason();
  if (reason) throw new LabError(reason);
  const opts = {
    dir: options.dir ?? DEFAULT_LAB_DIR,
    mode: options.mode ?? 'bpf',
    tunnel: options.tunnel ?? 'disabled',
    ciliumVersion: options.ciliumVersion ?? DEFAULT_VERSION,
    monitorAggregation: options.monitorAggregation ?? 'medium',
    datapathDebug: options.datapathDebug ?? false,
    hubble: options.hubble ?? true,
    latency: options.latency ?? 'none',
  };
  const instance = options.instance ?? '';
  const paths = labPaths(opts.dir);
  if (existsSync(paths.state)) {
    const s = JSON.parse(readFileSync(paths.state, 'utf8')) as LabState;
    throw new LabError(`a lab is already up (${s.mode}, tunnel ${s.tunnel}, since ${s.createdAt}): run down first`);
  }
  const leftovers = listNetns().filter((n) => netnsOfInstance(n, instance));
  if (existsSync(paths.dir) || leftovers.length > 0) {
    throw new LabError(`a previous lab was not fully removed (${leftovers.length} namespaces${existsSync(paths.dir) ? `, ${paths.dir}` : ''}): run down first`);
  }
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  for (const d of [paths.dir, paths.run, paths.events, paths.logs]) mkdirSync(d, { recursive: true });
  writeFileSync(paths.instanceFile, `${instance}\n`);
  writeFileSync(paths.building, `${process.pid}\n`);
  try {
    const topology = planTopology(instance, opts.ciliumVersion);
    // The BPF programs and loaders, and the emulated programs bundled to plain JavaScript.
    const compiled = Promise.all([compileAll(paths.bin), bundleEmulated(paths.dir)]);
    compiled.catch(() => undefined); // awaited below; avoid an unhandled rejection while the network builds
    let t = performance.now();
    const facts = buildNetwork(topology, opts.tunnel);
    timings.network = seconds(t);
    t = performance.now();
    await compiled;
    timings.compileWait = seconds(t);
    t = performance.now();
    // No policy yet: every endpoint allows everything (the allow-all entries), before any packet.
    writePolicy(paths.dir, topology.nodes.map((n) => n.name), { policies: [], endpoints: policyEndpoints(topology), namespaceLabels: {} }, 1);
    const agentPids: Record<string, number> = {};
    for (const node of topology.nodes) {
      agentPids[node.name] = await startAgent(paths, node, agentConfig(topology, node, facts, opts.mode, opts.tunnel));
    }
    timings.agents = seconds(t);
    t = performance.now();
    await startPodServers(paths, networkedPods(topology));
    timings.servers = seconds(t);
    const state = toState(topology, facts, opts);
    const kernel: KernelFacts = {
      instance,
      monitorAggregation: opts.monitorAggregation,
      datapathDebug: opts.datapathDebug,
      hubble: opts.hubble,
      nodes: Object.fromEntries(topology.nodes.map((n) => {
        const f = facts.nodes.get(n.name) as NetworkFacts['nodes'] extends Map<string, infer V> ? V : never;
        return [n.name, { hostEndpointId: n.hostEndpointId, underlayIfindex: f.underlayIfindex, ciliumHostIfindex: f.ciliumHostIfindex, vxlanIfindex: f.vxlanIfindex, netnsInode: f.netnsInode, agentPid: agentPids[n.name] }];
      })),
      pods: Object.fromEntries(networkedPods(topology).map((p) => [`${p.namespace}/${p.name}`, { netnsInode: facts.pods.get(p.uid)?.netnsInode ?? 0 }])),
    };
    writeJson(kernelFactsPath(paths.state), kernel);
    writeJson(paths.state, state);
    rmSync(paths.building, { force: true });
    timings.kernel = seconds(t0);
    let apiUnavailable: string | undefined;
    if (options.api !== false) {
      t = performance.now();
      const api = await apiModule();
      if (api === undefined) apiUnavailable = 'the API server (test/lab/api/launch.ts) is not available yet';
      else {
        state.api = await api.launchApiServer(state);
        writeJson(paths.state, state);
      }
      timings.api = seconds(t);
    }
    timings.total = seconds(t0);
    return { state, timings, apiUnavailable };
  } catch (err) {
    await labDown({ dir: opts.dir, instance }).catch(() => undefined);
    throw err;
  }
}

function readState(path: string): LabState | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** Pids of processes whose command line names a file of the lab directory (agents, tracers, emulated CLIs). */
function labProcesses(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    if (cmdline(pid).includes(`${dir}/`)) pids.push(pid);
  }
  return pids;
}

/** Pids of processes living in the given network namespaces. */
function netnsProcesses(netns: string[]): number[] {
  const pids = new Set<number>();
  for (const n of netns) {
    const r = tryRun('ip', ['netns', 'pids', n]);
    for (const line of r.stdout.split('\n')) if (/^\d+$/.test(line.trim())) pids.add(Number(line.trim()));
  }
  pids.delete(process.pid);
  return [...pids];
}

/** Whether a process exists and is not a zombie (orphaned agents wait for init to reap them). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

async function killAll(pids: number[]): Promise<number[]> {
  const killed: number[] = [];
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
      killed.push(pid);
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 2000;
  let left = killed;
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    left = left.filter(running);
  }
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  return killed;
}

/**
 * Removes a lab: API server, processes (agents, anything running in the lab's namespaces or
 * from its directory), every namespace of the instance (their links and tc programs go with
 * them) and the lab directory. Works from whatever is left: state.json, the instance file, or
 * nothing (then the default instance's `dplab-bpf*` namespaces). `all` removes every `dplab-`
 * namespace, whatever instance made it.
 */
export async function labDown(options: { dir?: string; instance?: string; all?: boolean } = {}): Promise<DownResult> {
  const t0 = performance.now();
  const dir = options.dir ?? DEFAULT_LAB_DIR;
  const paths = labPaths(dir);
  const state = readState(paths.state);
  let instance = options.instance;
  if (instance === undefined && existsSync(paths.instanceFile)) instance = readFileSync(paths.instanceFile, 'utf8').trim();
  instance ??= '';
  if (state?.api) {
    const api = await apiModule().catch(() => undefined);
    if (api) await api.stopApiServer(state).catch(() => undefined);
  }
  const netns = listNetns().filter((n) => (options.all ? n.startsWith('dplab-') : netnsOfInstance(n, instance as string)));
  const pids = new Set<number>();
  if (existsSync(paths.run)) {
    for (const f of readdirSync(paths.run).filter((x) => x.endsWith('.pid'))) {
      const pid = Number(readFileSync(`${paths.run}/${f}`, 'utf8').trim());
      if (pid > 0 && cmdline(pid).includes(`${dir}/`)) pids.add(pid);
    }
  }
  if (state?.api?.pid && cmdline(state.api.pid) !== '') pids.add(state.api.pid);
  for (const pid of netnsProcesses(netns)) pids.add(pid);
  if (existsSync(dir)) for (const pid of labProcesses(dir)) pids.add(pid);
  const killedPids = await killAll([...pids]);
  if (netns.length > 0) {
    try {
      ipBatch(undefined, netns.map((n) => `netns del ${n}`));
    } catch {
      for (const n of netns) tryRun('ip', ['netns', 'del', n]);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  const left = listNetns().filter((n) => netns.includes(n));
  if (left.length > 0) throw new LabError(`could not delete namespaces: ${left.join(', ')}`);
  return { seconds: seconds(t0), removedNetns: netns, killedPids };
}

export interface StatusReport {
  up: boolean;
  lines: string[];
}

/** What is up: the lab's mode, nodes, pods, agents and API server, and any leftovers. */
export function labStatus(options: { dir?: string; instance?: string } = {}): StatusReport {
  const dir = options.dir ?? DEFAULT_LAB_DIR;
  const paths = labPaths(dir);
  const state = readState(paths.state);
  const instance = options.instance ?? (existsSync(paths.instanceFile) ? readFileSync(paths.instanceFile, 'utf8').trim() : '');
  const netns = listNetns().filter((n) => netnsOfInstance(n, instance));
  if (!state) {
    if (netns.length === 0 && !existsSync(dir)) return { up: false, lines: ['no lab is up'] };
    return { up: false, lines: [`a partial lab is left (${netns.length} namespaces${existsSync(dir) ? `, ${dir}` : ''}): run down`] };
  }
  const lines = [`lab up since ${state.createdAt}: mode ${state.mode}, tunnel ${state.tunnel}, Cilium ${state.ciliumVersion} (emulated CLI)`, `  ${describeLatency(latencyProfile(state.latency))}`];
  let healthy = true;
  for (const node of state.nodes) {
    const pidFile = paths.agentPid(node.name);
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0;
    const agentUp = pid > 0 && cmdline(pid).includes(`${dir}/`);
    const present = netns.includes(node.netns);
    healthy &&= agentUp && present;
    lines.push(`  node ${node.name} ${node.ip} netns ${node.netns}${present ? '' : ' (MISSING)'}, pod CIDR ${node.podCidr}, agent ${agentUp ? `pid ${pid}` : 'NOT RUNNING'}`);
    for (const pod of state.pods.filter((p) => p.node === node.name)) {
      const where = pod.hostNetwork ? 'hostNetwork' : `${pod.ip} ${pod.lxc?.name} (ifindex ${pod.lxc?.ifindex}) endpoint ${pod.endpointId} identity ${pod.identity}`;
      const missing = pod.netns !== undefined && !netns.includes(pod.netns) ? ' (NETNS MISSING)' : '';
      if (missing) healthy = false;
      lines.push(`    pod ${pod.namespace}/${pod.name} ${where}${missing}`);
    }
  }
  if (state.api) {
    const apiUp = cmdline(state.api.pid) !== '';
    lines.push(`  API server https://127.0.0.1:${state.api.port} pid ${state.api.pid}${apiUp ? '' : ' (NOT RUNNING)'}, kubeconfig ${state.api.kubeconfig}`);
  } else {
    lines.push('  API server: not running');
  }
  if (!healthy) lines.push('  some parts are missing: run down, then up');
  return { up: healthy, lines };
}
