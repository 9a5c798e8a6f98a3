/**
 * In-memory FakeKube and FakeExec implementing src/app/ports.ts, and a small fake cluster whose
 * remote tools replay real outputs: captures stream a real pcap fixture (header at start, packets
 * once traffic was sent), monitor and pwru print their real readiness lines on stderr and a real
 * fixture on stdout. Long-running remote commands live in a process table until a stop command
 * kills them by pidfile, as on a node: closing an exec stream does not end them.
 */
import { readFileSync } from 'node:fs';
import { ForbiddenError, NotFoundError } from '../../src/core/errors.js';
import type { EndpointInfo } from '../../src/core/model/endpoint.js';
import type { ExecPort, ExecRequest, ExecResult, KubePort, NodeInfo, PodInfo, PodRef, PolicyResource, ProbePodSpec, ServiceBackendInfo, ServiceInfo } from '../../src/app/ports.js';
import type { ResolvedPod, ResolvePod } from '../../src/app/trace.js';
import { netnsLinksArgv } from '../../src/probes/discovery.js';
import { splitProvenance } from './fixtures.js';

const enc = new TextEncoder();

/** FakeKube: pods and nodes in maps; probe pods run at once unless creation is forbidden. */
export class FakeKube implements KubePort {
  readonly pods = new Map<string, PodInfo>();
  readonly nodes = new Map<string, NodeInfo>();
  readonly endpoints = new Map<string, unknown>();
  readonly created: ProbePodSpec[] = [];
  readonly deleted: PodRef[] = [];
  /** When set, createPod answers 403 with this message (RBAC or Pod Security). */
  forbidPods?: string;
  /** Network policy objects per resource; an Error is what listing it throws (a 403). */
  readonly policies: Partial<Record<PolicyResource, unknown[] | Error>> = {};

  defaultNamespace(): string {
    return 'default';
  }

  addPod(p: Partial<PodInfo> & { namespace: string; name: string; node: string }): PodInfo {
    const pod: PodInfo = { uid: `uid-${p.name}`, ips: [], hostNetwork: false, phase: 'Running', containers: [{ name: 'main', image: 'busybox' }], labels: {}, ...p };
    this.pods.set(key(pod), pod);
    return pod;
  }

  async getPod(ref: PodRef): Promise<PodInfo> {
    const p = this.pods.get(key(ref));
    if (!p) throw new NotFoundError(`pod ${key(ref)} not found`);
    return p;
  }

  async listPods(namespace: string | undefined, selectors: { labelSelector?: string; fieldSelector?: string }): Promise<PodInfo[]> {
    const wanted = (selectors.labelSelector ?? '').split(',').filter((s) => s !== '').map((s) => s.split('='));
    return [...this.pods.values()].filter((p) => (namespace === undefined || p.namespace === namespace) && wanted.every(([k, v]) => p.labels[k] === v));
  }

  async getNode(name: string): Promise<NodeInfo> {
    const n = this.nodes.get(name);
    if (!n) throw new NotFoundError(`node ${name} not found`);
    return n;
  }

  readonly services = new Map<string, ServiceInfo>();
  readonly serviceBackends = new Map<string, ServiceBackendInfo[]>();

  async getService(ref: PodRef): Promise<ServiceInfo> {
    const svc = this.services.get(`${ref.namespace}/${ref.name}`);
    if (!svc) throw new NotFoundError(`services "${ref.name}" not found in namespace ${ref.namespace}`);
    return svc;
  }

  async listServices(namespace: string | undefined): Promise<ServiceInfo[]> {
    return [...this.services.values()].filter((s) => namespace === undefined || s.namespace === namespace);
  }

  async listServiceBackends(ref: PodRef): Promise<ServiceBackendInfo[]> {
    return this.serviceBackends.get(`${ref.namespace}/${ref.name}`) ?? [];
  }

  async getCiliumEndpoint(ref: PodRef): Promise<unknown> {
    return this.endpoints.get(key(ref));
  }

  async listPolicyObjects(resource: PolicyResource): Promise<unknown[]> {
    const answer = this.policies[resource] ?? [];
    if (answer instanceof Error) throw answer;
    return answer;
  }

  async findAgentPod(node: string): Promise<PodInfo> {
    const agent = [...this.pods.values()].find((p) => p.labels['k8s-app'] === 'cilium' && p.node === node);
    if (!agent) throw new NotFoundError(`no Cilium agent pod on node ${node}`);
    return agent;
  }

  async createPod(spec: ProbePodSpec): Promise<PodInfo> {
    if (this.forbidPods) throw new ForbiddenError(this.forbidPods);
    this.created.push(spec);
    return this.addPod({ namespace: spec.namespace, name: spec.name, node: spec.node, labels: spec.labels, hostNetwork: true, containers: [{ name: spec.container ?? 'probe', image: spec.image }] });
  }

  async waitForRunning(ref: PodRef): Promise<PodInfo> {
    return this.getPod(ref);
  }

  async deletePod(ref: PodRef): Promise<void> {
    this.deleted.push(ref);
    this.pods.delete(key(ref));
  }

  async canI(): Promise<{ allowed: boolean }> {
    return { allowed: true };
  }

  async podSecurityLevel(): Promise<string | undefined> {
    return undefined;
  }

  /** Probe pods still in the cluster. */
  probePods(): PodInfo[] {
    return [...this.pods.values()].filter((p) => p.labels['app.kubernetes.io/managed-by'] === 'kubectl-datapath');
  }
}

function key(r: PodRef): string {
  return `${r.namespace}/${r.name}`;
}

/** What a long-running fake command can do while it runs. */
export interface FakeProcess {
  req: ExecRequest;
  /** The command without the pidfile wrapper and `timeout N`. */
  argv: string[];
  stdout(data: Uint8Array | string): void;
  stderr(text: string): void;
  /** Resolves when the stop command killed it by its pidfile. */
  killed: Promise<void>;
}

/** A handler answers one command: short ones return at once, long ones run until killed or done. */
export type FakeHandler = (p: FakeProcess) => Promise<Partial<ExecResult> | void> | Partial<ExecResult> | void;

interface Running {
  pidfile: string;
  pod: string;
  argv: string[];
  kill: () => void;
  done: boolean;
}

/** FakeExec: dispatches argv to handlers by the pod they run in and the command name. */
export class FakeExec implements ExecPort {
  readonly calls: { pod: string; container?: string; argv: string[]; at: number }[] = [];
  readonly processes: Running[] = [];
  private readonly handlers: { match: (pod: string, argv: string[]) => boolean; run: FakeHandler }[] = [];
  /** Called when a long-running command starts (Ctrl-C tests abort here). */
  onLaunch?: (pod: string, argv: string[]) => void;

  on(match: (pod: string, argv: string[]) => boolean, run: FakeHandler): this {
    this.handlers.unshift({ match, run });
    return this;
  }

  /** Remote processes that were started and never killed nor ended: what a node would be left with. */
  leftRunning(): Running[] {
    return this.processes.filter((p) => !p.done);
  }

  async exec(req: ExecRequest): Promise<ExecResult> {
    const started = Date.now();
    const pod = key(req.pod);
    this.calls.push({ pod, container: req.container, argv: req.argv, at: performance.now() });
    const base = (fields: Partial<ExecResult>): ExecResult => ({ pod: req.pod, container: req.container, argv: req.argv, exitCode: 0, stdout: '', stderr: '', durationMs: Date.now() - started, canceled: false, ...fields });
    if (req.signal?.aborted) return base({ exitCode: null, canceled: true });

    const argv = req.argv;
    // The pidfile wrapper of src/probes: sh -c SCRIPT PIDFILE CMD...
    if (argv[0] === 'sh' && argv[1] === '-c' && argv[2].includes('exec "$@"')) return this.launch(req, argv[3], unwrap(argv.slice(4)), base);
    if (argv[0] === 'sh' && argv[1] === '-c' && argv[2].includes('kill -TERM') && !argv[2].includes('for f in')) {
      // One stop command may name the pidfiles of several probes of the container.
      for (const p of this.processes) if (argv.slice(3).includes(p.pidfile) && p.pod === pod && !p.done) p.kill();
      return base({});
    }
    if (argv[0] === 'sh' && argv[1] === '-c' && argv[2].includes('for f in')) {
      const killed = this.processes.filter((p) => p.pod === pod && !p.done && p.pidfile.startsWith(argv[3]));
      for (const p of killed) p.kill();
      return base({ stdout: killed.map((p) => `${p.pidfile}\n`).join('') });
    }
    let out = '';
    let err = '';
    const h = this.handlers.find((x) => x.match(pod, argv));
    if (!h) return base({ exitCode: 127, commandNotFound: true, stderr: `exec: "${argv[0]}": executable file not found in $PATH` });
    const work = Promise.resolve(h.run({ req, argv, stdout: (d) => (out += typeof d === 'string' ? d : new TextDecoder().decode(d)), stderr: (t) => (err += t), killed: new Promise(() => undefined) }));
    // Closing the stream ends a short command for the client (the adapter's cancel).
    const canceled = new Promise<'canceled'>((resolve) => req.signal?.addEventListener('abort', () => resolve('canceled'), { once: true }));
    const r = await Promise.race([work, canceled]);
    if (r === 'canceled') return base({ exitCode: null, canceled: true, stdout: out, stderr: err });
    return base({ stdout: out, stderr: err, ...(r ?? {}) });
  }

  private async launch(req: ExecRequest, pidfile: string, argv: string[], base: (f: Partial<ExecResult>) => ExecResult): Promise<ExecResult> {
    const pod = key(req.pod);
    let kill: () => void = () => undefined;
    const killed = new Promise<void>((resolve) => (kill = resolve));
    const running: Running = { pidfile, pod, argv, kill, done: false };
    this.processes.push(running);
    const h = this.handlers.find((x) => x.match(pod, argv));
    let stderr = '';
    if (!h) {
      running.done = true;
      return base({ exitCode: 127, commandNotFound: true, stderr: `sh: ${argv[0]}: not found` });
    }
    this.onLaunch?.(pod, argv);
    const proc: FakeProcess = {
      req,
      argv,
      stdout: (d) => req.onStdout?.(typeof d === 'string' ? enc.encode(d) : d),
      stderr: (t) => {
        stderr += t;
        req.onStderr?.(enc.encode(t));
      },
      killed,
    };
    // Closing the stream ends the exec for the client only: the process stays in the table.
    const canceled = new Promise<'canceled'>((resolve) => req.signal?.addEventListener('abort', () => resolve('canceled'), { once: true }));
    const work = Promise.resolve(h.run(proc)).then((r) => r ?? { exitCode: 0 });
    const first = await Promise.race([work, killed.then(() => 'killed' as const), canceled]);
    if (first === 'canceled') {
      void Promise.race([work, killed]).then(() => (running.done = true));
      return base({ exitCode: null, canceled: true, stderr });
    }
    running.done = true;
    if (first === 'killed') return base({ exitCode: 143, stderr });
    return base({ stderr, ...first });
  }
}

/** unwrap drops `timeout N` (and keeps nsenter) so handlers match the tool itself. */
function unwrap(argv: string[]): string[] {
  return argv[0] === 'timeout' ? argv.slice(2) : argv;
}

/** toolOf: the tool of an unwrapped argv, past nsenter. */
export function toolOf(argv: string[]): string {
  return argv[0] === 'nsenter' ? argv[2] : argv[0];
}

/** pcapParts: a real pcap file as its 24-byte header and its records (little-endian pcap, as tcpdump writes here). */
export function pcapParts(path: string): { header: Uint8Array; records: Uint8Array[] } {
  const bytes = new Uint8Array(readFileSync(path));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: Uint8Array[] = [];
  for (let at = 24; at + 16 <= bytes.length; ) {
    const len = view.getUint32(at + 8, true);
    records.push(bytes.subarray(at, at + 16 + len));
    at += 16 + len;
  }
  return { header: bytes.subarray(0, 24), records };
}

/** fixtureBody: a text fixture without its provenance header, and without a leading shell prompt. */
export function fixtureBody(path: string): string[] {
  return splitProvenance(readFileSync(path, 'utf8')).body.filter((l, i) => !(i === 0 && /^\S+@\S+:.*[#$] /.test(l)));
}

/** FakePodSpec: a traced pod of the fake cluster. */
export interface FakePodSpec {
  namespace: string;
  name: string;
  node: string;
  ip: string;
  endpointId: number;
  lxc: string;
  lxcIfindex: number;
  mac: string;
  netns: string;
  /** Tools its image has (ping, nc, tcpdump). */
  tools: string[];
}

/** Two pods on node n1 with the pcap fixture's addresses; only the client's image has ping. */
export const FAKE_CLIENT: FakePodSpec = { namespace: 'default', name: 'client', node: 'n1', ip: '10.99.0.1', endpointId: 2836, lxc: 'lxcda6f5295b4b7', lxcIfindex: 28, mac: '02:00:00:00:00:0a', netns: 'cni-1111', tools: ['ping'] };
export const FAKE_SERVER: FakePodSpec = { namespace: 'default', name: 'server', node: 'n1', ip: '10.99.0.2', endpointId: 3663, lxc: 'lxcf9d0a91de5fb', lxcIfindex: 24, mac: '02:00:00:00:00:0b', netns: 'cni-2222', tools: [] };

export interface FakeClusterOptions {
  pods: FakePodSpec[];
  nodes: { name: string; internalIp: string; tunnel?: boolean; underlay?: string }[];
  /** Readiness delays per tool, ms: pwru attaches slowly. */
  readyDelayMs?: Partial<Record<string, number>>;
  /** Tools that fail at start instead of becoming ready: exit code and stderr. */
  failing?: Record<string, { exitCode: number; stderr: string }>;
  pcap?: string;
  monitor?: string;
  pwru?: string;
  xtables?: string;
}

/** FakeCluster: FakeKube + FakeExec wired with the pods' tools and the nodes' probes. */
export class FakeCluster {
  readonly kube = new FakeKube();
  readonly exec = new FakeExec();
  /** Times (performance.now) at which each probe printed its readiness line, and traffic commands started. */
  readonly readyAt: { tool: string; pod: string; at: number }[] = [];
  readonly trafficAt: { pod: string; argv: string[]; at: number }[] = [];
  /** iptables rules per node pod (`ns/agent`), as their specs joined. */
  readonly rules = new Map<string, Set<string>>();
  /** Marks the traffic as sent: the probes print what they saw of it. */
  trafficSent!: () => void;
  readonly traffic = new Promise<void>((resolve) => (this.trafficSent = resolve));

  constructor(readonly opts: FakeClusterOptions) {
    for (const n of opts.nodes) {
      this.kube.nodes.set(n.name, { name: n.name, internalIp: n.internalIp });
      this.kube.addPod({ namespace: 'kube-system', name: `cilium-${n.name}`, node: n.name, hostNetwork: true, labels: { 'k8s-app': 'cilium' }, containers: [{ name: 'cilium-agent', image: 'quay.io/cilium/cilium:v1.16.5' }] });
    }
    for (const p of opts.pods) this.kube.addPod({ namespace: p.namespace, name: p.name, node: p.node, ips: [p.ip], containers: [{ name: 'app', image: `fake/${p.tools.join('-') || 'none'}` }] });
    this.wire();
  }

  /** resolve: what resolve.ts gives, from the fake's data. */
  readonly resolve: ResolvePod = async (ref) => {
    const pod = await this.kube.getPod(ref);
    const spec = this.opts.pods.find((p) => p.namespace === ref.namespace && p.name === ref.name)!;
    const agent = await this.kube.findAgentPod(pod.node);
    const endpoint: EndpointInfo = {
      id: spec.endpointId,
      identity: 1000 + spec.endpointId,
      ips: [spec.ip],
      interface: spec.lxc,
      ifindex: spec.lxcIfindex,
      mac: spec.mac,
      labels: [],
      pod: { namespace: spec.namespace, name: spec.name },
      node: spec.node,
      source: 'cilium-endpoint',
    };
    const r: ResolvedPod = { pod, endpoint, agent: { pod: { namespace: agent.namespace, name: agent.name }, container: 'cilium-agent', cli: 'cilium-dbg' } };
    return r;
  };

  private podOf(pod: string): FakePodSpec | undefined {
    return this.opts.pods.find((p) => `${p.namespace}/${p.name}` === pod);
  }

  private nodeOfPod(pod: string): string | undefined {
    return this.kube.pods.get(pod)?.node;
  }

  private wire(): void {
    const ex = this.exec;
    const isProbePod = (pod: string) => this.kube.pods.get(pod)?.labels['app.kubernetes.io/managed-by'] === 'kubectl-datapath';
    const isAgent = (pod: string) => /^kube-system\/cilium-/.test(pod);
    const hasTool = (pod: string, tool: string) => this.podOf(pod)?.tools.includes(tool) === true;
    const delay = (tool: string) => this.opts.readyDelayMs?.[tool] ?? 10;
    const failing = (tool: string) => this.opts.failing?.[tool];

    // Discovery in the capture pod.
    ex.on((pod, a) => isProbePod(pod) && a.join(' ') === netnsLinksArgv().join(' '), (p) => {
      const node = this.nodeOfPod(key(p.req.pod));
      for (const pod of this.opts.pods.filter((x) => x.node === node)) {
        p.stdout(`netns: /run/netns/${pod.netns}\n2: eth0@if${pod.lxcIfindex}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether ${pod.mac} brd ff:ff:ff:ff:ff:ff link-netnsid 0\n`);
      }
    });
    ex.on((pod, a) => isProbePod(pod) && a.join(' ') === 'ip -o link show', (p) => {
      const node = this.opts.nodes.find((n) => n.name === this.nodeOfPod(key(p.req.pod)))!;
      const lines = [`1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00`];
      lines.push(`2: ${node.underlay ?? 'eth0'}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc mq state UP mode DEFAULT group default qlen 1000\\    link/ether 52:54:00:00:00:01 brd ff:ff:ff:ff:ff:ff`);
      if (node.tunnel) lines.push(`5: cilium_vxlan: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/ether 3a:1f:00:00:00:05 brd ff:ff:ff:ff:ff:ff`);
      for (const pod of this.opts.pods.filter((x) => x.node === node.name)) lines.push(`${pod.lxcIfindex}: ${pod.lxc}@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether fe:00:00:00:00:${pod.lxcIfindex.toString(16).padStart(2, '0')} brd ff:ff:ff:ff:ff:ff link-netns ${pod.netns}`);
      p.stdout(`${lines.join('\n')}\n`);
    });
    ex.on((pod, a) => isProbePod(pod) && a[0] === 'ip' && a[2] === 'route' && a[3] === 'get', (p) => {
      const node = this.opts.nodes.find((n) => n.name === this.nodeOfPod(key(p.req.pod)))!;
      p.stdout(`${p.argv[4]} dev ${node.underlay ?? 'eth0'} src ${node.internalIp} uid 0 \\    cache \n`);
    });

    // Captures: tcpdump in the capture pod (entering a netns or on a node device) or in an app pod that has it.
    ex.on((pod, a) => toolOf(a) === 'tcpdump' && (isProbePod(pod) || hasTool(pod, 'tcpdump')), async (p) => {
      const f = failing('tcpdump');
      const iface = p.argv[p.argv.indexOf('-i') + 1];
      if (f) {
        p.stderr(f.stderr);
        return { exitCode: f.exitCode };
      }
      await sleep(delay('tcpdump'));
      const { header, records } = pcapParts(this.opts.pcap ?? 'test/fixtures/pcap/ping-arp.pcap');
      p.stdout(header);
      p.stderr(`tcpdump: listening on ${iface}, link-type EN10MB (Ethernet), snapshot length 256 bytes\n`);
      this.readyAt.push({ tool: 'tcpdump', pod: key(p.req.pod), at: performance.now() });
      await Promise.race([this.traffic, p.killed]);
      for (const r of records) p.stdout(r);
      await p.killed;
      p.stderr(`${records.length} packets captured\n${records.length} packets received by filter\n0 packets dropped by kernel\n`);
    });

    ex.on((pod, a) => isAgent(pod) && a[0] === 'cilium-dbg' && a[1] === 'monitor', async (p) => {
      const f = failing('monitor');
      if (f) {
        p.stderr(f.stderr);
        return { exitCode: f.exitCode };
      }
      await sleep(delay('monitor'));
      p.stderr('Listening for events on 2 CPUs with 64x4096 of shared memory\nPress Ctrl-C to quit\n');
      this.readyAt.push({ tool: 'monitor', pod: key(p.req.pod), at: performance.now() });
      await Promise.race([this.traffic, p.killed]);
      p.stdout(`${fixtureBody(this.opts.monitor ?? 'test/fixtures/seed/cilium-monitor-v.txt').join('\n')}\n`);
      await p.killed;
    });

    ex.on((pod, a) => isProbePod(pod) && a[0] === 'pwru', async (p) => {
      const f = failing('pwru');
      if (f) {
        p.stderr(f.stderr);
        return { exitCode: f.exitCode };
      }
      const body = fixtureBody(this.opts.pwru ?? 'test/fixtures/seed/pwru-v0.0.2-src-same.txt');
      const logEnd = body.findIndex((l) => l.includes('Listening for events'));
      p.stderr(`${body.slice(0, logEnd).join('\n')}\n`);
      await sleep(delay('pwru'));
      p.stderr(`${body[logEnd]}\n`);
      this.readyAt.push({ tool: 'pwru', pod: key(p.req.pod), at: performance.now() });
      await Promise.race([this.traffic, p.killed]);
      p.stdout(`${body.slice(logEnd + 1).join('\n')}\n`);
      await p.killed;
    });

    ex.on((pod, a) => isAgent(pod) && (a[0] === 'iptables' || a[0] === 'ip6tables'), (p) => {
      const rules = this.rules.get(key(p.req.pod)) ?? new Set<string>();
      this.rules.set(key(p.req.pod), rules);
      const op = p.argv.indexOf('-I') >= 0 ? '-I' : '-D';
      const at = p.argv.indexOf(op);
      const spec = [p.argv[at + 1], ...p.argv.slice(at + 2)].join(' ');
      if (op === '-I') rules.add(spec);
      else if (!rules.delete(spec)) return { exitCode: 1, stderr: 'iptables: Bad rule (does a matching rule exist in that chain?).\n' };
      return {};
    });
    ex.on((pod, a) => isAgent(pod) && a[0] === 'iptables-save', (p) => {
      const rules = this.rules.get(key(p.req.pod)) ?? new Set<string>();
      p.stdout(`*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${[...rules].map((r) => `-A ${r}`).join('\n')}\nCOMMIT\n`);
    });
    ex.on((pod, a) => isAgent(pod) && a[0] === 'xtables-monitor', async (p) => {
      this.readyAt.push({ tool: 'iptables', pod: key(p.req.pod), at: performance.now() });
      await Promise.race([this.traffic, p.killed]);
      p.stdout(`${fixtureBody(this.opts.xtables ?? 'test/fixtures/iptables-trace/xtables-monitor-docker0-icmp-forward-masquerade.txt').join('\n')}\n`);
      await p.killed;
    });

    // Traffic: ping/nc in a pod whose image has them, or from the capture pod into a netns.
    ex.on((pod, a) => (toolOf(a) === 'ping' || toolOf(a) === 'nc') && (isProbePod(pod) || hasTool(pod, toolOf(a))), async (p) => {
      this.trafficAt.push({ pod: key(p.req.pod), argv: p.argv, at: performance.now() });
      this.trafficSent();
      await sleep(20);
      if (toolOf(p.argv) === 'ping') p.stdout(`PING ${p.argv[p.argv.length - 1]}: 56 data bytes\n--- ping statistics ---\n2 packets transmitted, 2 received, 0% packet loss\n`);
    });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
