/**
 * doctor's verdicts for what the lab cannot show: a Pod Security level that forbids probe pods,
 * a missing probe namespace, a kernel without BTF or too old for pwru, permissions denied, an
 * unreachable API server, no agents; and the resolver's fall back to the `status` text of a real
 * 1.15 agent when `status -o json` gives nothing usable. Ports are in-memory; agent outputs are
 * the real fixtures (test/fixtures/cilium-status, cilium-endpoint).
 */
import { PERMISSIONS, runDoctor, type DoctorRequest } from '../../../src/app/doctor.js';
import type { ExecPort, ExecRequest, ExecResult, KubePort, NodeInfo, PodInfo, PodRef } from '../../../src/app/ports.js';
import { EndpointResolver } from '../../../src/app/resolve.js';
import { DatapathError, EXIT, NotFoundError } from '../../../src/core/errors.js';
import type { DoctorCheck } from '../../../src/core/model/doctor.js';
import { readFixture } from '../../helpers/fixtures.js';

const STATUS_TEXT = readFixture('test/fixtures/cilium-status/wcni-kind-v1.15.0-rc.1-status-verbose-kpr-native.txt').body.join('\n') + '\n';
const ENDPOINT_GET = readFixture('test/fixtures/cilium-endpoint/debuginfo-2025-endpoint-get-33-coredns.txt').body.join('\n') + '\n';
// GNU ls on a missing path (coreutils 9): exit 2.
const LS_MISSING = "ls: cannot access '/sys/kernel/btf/vmlinux': No such file or directory\n";

const agentPod: PodInfo = {
  namespace: 'kube-system',
  name: 'cilium-x7k2p',
  uid: 'u1',
  node: 'worker-1',
  ips: ['172.18.0.2'],
  hostNetwork: true,
  phase: 'Running',
  containers: [{ name: 'cilium-agent', image: 'quay.io/cilium/cilium:v1.15.0-rc.1' }],
  labels: { 'k8s-app': 'cilium' },
};

/** The KubePort doctor reads: settable answers, and errors where a test wants them. */
class Kube implements KubePort {
  denied = new Set<string>();
  psa: string | undefined | Error = undefined;
  kernel = '6.1.0-18-amd64';
  agents: PodInfo[] = [agentPod];
  reviewError?: DatapathError;
  defaultNamespace = () => 'default';
  getPod = async (ref: PodRef): Promise<PodInfo> => {
    throw new NotFoundError(`pod ${ref.namespace}/${ref.name} not found`);
  };
  listPods = async (): Promise<PodInfo[]> => this.agents;
  getNode = async (name: string): Promise<NodeInfo> => ({ name, kernelVersion: this.kernel });
  getService = async (ref: PodRef): Promise<never> => {
    throw new NotFoundError(`services "${ref.name}" not found`);
  };
  listServices = async (): Promise<never[]> => [];
  listServiceBackends = async (): Promise<never[]> => [];
  getCiliumEndpoint = async (): Promise<unknown> => undefined;
  listPolicyObjects = async (): Promise<unknown[]> => [];
  findAgentPod = async (node: string): Promise<PodInfo> => {
    const a = this.agents.find((p) => p.node === node);
    if (a === undefined) throw new NotFoundError(`no Cilium agent pod on node ${node}`);
    return a;
  };
  createPod = async (): Promise<PodInfo> => agentPod;
  waitForRunning = async (): Promise<PodInfo> => agentPod;
  deletePod = async (): Promise<void> => undefined;
  canI = async (c: { verb: string; resource: string; subresource?: string; namespace?: string }): Promise<{ allowed: boolean }> => {
    if (this.reviewError) throw this.reviewError;
    return { allowed: !this.denied.has(`${c.verb} ${c.resource}${c.subresource ? `/${c.subresource}` : ''} ${c.namespace ?? '(cluster)'}`) };
  };
  podSecurityLevel = async (): Promise<string | undefined> => {
    if (this.psa instanceof Error) throw this.psa;
    return this.psa;
  };
}

/** An agent answering by argv; anything else is missing from the image (127). */
class Agent implements ExecPort {
  readonly calls: string[][] = [];
  constructor(private readonly answers: Record<string, Partial<ExecResult>>) {}
  async exec(req: ExecRequest): Promise<ExecResult> {
    this.calls.push(req.argv);
    const answer = this.answers[req.argv.join(' ')] ?? { exitCode: 127, commandNotFound: true, stderr: `exec: "${req.argv[0]}": executable file not found in $PATH` };
    return { pod: req.pod, container: req.container, argv: req.argv, exitCode: 0, stdout: '', stderr: '', durationMs: 1, canceled: false, ...answer };
  }
}

/** A 1.15 agent whose `status -o json` printed nothing usable, and whose text status is real. */
const agentAnswers = (extra: Record<string, Partial<ExecResult>> = {}): Record<string, Partial<ExecResult>> => ({
  'cilium-dbg status -o json': { exitCode: 1, stdout: '', stderr: 'Error: cannot reach the agent API\n' },
  'cilium-dbg status': { stdout: STATUS_TEXT },
  'cilium-dbg endpoint list -o json': { stdout: ENDPOINT_GET },
  'ls /sys/kernel/btf/vmlinux': { stdout: '/sys/kernel/btf/vmlinux\n' },
  ...extra,
});

const request: DoctorRequest = { namespace: 'shop', probeNamespace: 'shop', agentNamespace: 'kube-system', maxNodes: 5 };
const line = (checks: DoctorCheck[], check: string, scope?: string): DoctorCheck | undefined => checks.find((c) => c.check === check && (scope === undefined || c.scope === scope));

describe('runDoctor', () => {
  it('reads version, routing and aggregation from the real text status when JSON fails; Medium aggregation warns', async () => {
    const checks = await runDoctor(new Kube(), new Agent(agentAnswers()), request);
    expect(line(checks, 'cilium')).toEqual({ check: 'cilium', scope: 'worker-1', level: 'pass', detail: 'Cilium 1.15.0-rc.1, agent kube-system/cilium-x7k2p, CLI cilium-dbg' });
    expect(line(checks, 'routing')?.detail).toBe(
      'host routing Legacy (same-node pod traffic is still bpf_redirect()ed to the destination lxc, which sees it, with no ip_forward; traffic to other nodes and to the host crosses the host stack), inter-node routing unknown, kube-proxy replacement True',
    );
    // The coredns endpoint of the 2025 debuginfo has MonitorAggregationLevel Medium.
    expect(line(checks, 'monitor')).toMatchObject({ level: 'warn' });
    expect(line(checks, 'monitor')?.detail).toMatch(/^monitor aggregation Medium: per-packet monitor events will be missing/);
    // Its options also say Debug Disabled: no DEBUG lines from monitor -v.
    expect(line(checks, 'debug')).toEqual({
      check: 'debug',
      scope: 'worker-1',
      level: 'pass',
      detail:
        "datapath debug off on 1 of 1 endpoints (Cilium's default): cilium monitor -v prints no DEBUG lines for them and the report does without them; for that evidence: `cilium-dbg endpoint config <id> Debug=Enabled` on the traced pods' endpoints (or debug.verbose=datapath in Helm), and back afterwards",
    });
    expect(line(checks, 'kernel')).toMatchObject({ level: 'pass', detail: 'kernel 6.1.0-18-amd64, BTF /sys/kernel/btf/vmlinux present: pwru can run' });
    expect(checks.filter((c) => c.check === 'rbac').every((c) => c.level === 'pass')).toBe(true);
    // The real status says `Hubble: Ok   Current/Max Flows: ...`: the trace's hubble probe will have flows.
    expect(line(checks, 'hubble')).toEqual({ check: 'hubble', scope: 'worker-1', level: 'pass', detail: 'Hubble Ok: trace reads its flows (timed Cilium hops, verdicts and drop reasons) with the hubble probe' });
  });

  it('policy audit mode: off in the real endpoint (PolicyAuditMode Disabled) passes; on, it warns that nothing policy denies is dropped', async () => {
    const off = await runDoctor(new Kube(), new Agent(agentAnswers()), request);
    expect(line(off, 'policy')).toEqual({ check: 'policy', scope: 'worker-1', level: 'pass', detail: 'policy audit mode off (1 endpoints): policy denials are drops' });
    // The same endpoint with the option as `cilium-dbg endpoint config 33 PolicyAuditMode=Enabled` leaves it.
    const audited = ENDPOINT_GET.replaceAll('"PolicyAuditMode": "Disabled"', '"PolicyAuditMode": "Enabled"');
    expect(audited).not.toBe(ENDPOINT_GET);
    const on = await runDoctor(new Kube(), new Agent(agentAnswers({ 'cilium-dbg endpoint list -o json': { stdout: audited } })), request);
    expect(line(on, 'policy')).toEqual({
      check: 'policy',
      scope: 'worker-1',
      level: 'warn',
      detail: 'policy audit mode on for 1 of 1 endpoints (33): nothing policy would deny is dropped, its verdicts say audit, so a trace shows no policy drop there; to enforce: `cilium-dbg endpoint config <id> PolicyAuditMode=Disabled` (or policyAuditMode=false in Helm)',
    });
  });

  it('asks every permission once, required when any reason requires it', async () => {
    const kube = new Kube();
    kube.denied = new Set(['create pods/exec shop', 'list pods shop', 'get nodes (cluster)']);
    const checks = await runDoctor(kube, new Agent(agentAnswers()), request);
    const rbac = checks.filter((c) => c.check === 'rbac');
    expect(rbac.map((c) => c.scope)).toEqual([...new Set(rbac.map((c) => c.scope))]);
    expect(rbac.length).toBeLessThan(PERMISSIONS.length);
    // pods/exec in the pods' namespace is optional, but the probe pods live there too: required.
    expect(line(checks, 'rbac', 'create pods/exec in shop')).toMatchObject({ level: 'fail' });
    expect(line(checks, 'rbac', 'create pods/exec in shop')?.detail).toBe(
      'denied: cannot capture inside pods whose image has tcpdump (else the probe pod enters their netns); run tcpdump and pwru in the probe pods; add {apiGroups: [""], resources: ["pods/exec"], verbs: ["create"]} to a Role bound to you (docs/rbac.yaml)',
    );
    expect(line(checks, 'rbac', 'list pods in shop')?.level).toBe('fail');
    expect(line(checks, 'rbac', 'get nodes (cluster)')).toMatchObject({ level: 'warn' });
    expect(line(checks, 'rbac', 'get nodes (cluster)')?.detail).toMatch(/to a ClusterRole bound to you/);
  });

  it('warns about a Pod Security level that refuses probe pods, fails on a missing probe namespace', async () => {
    const kube = new Kube();
    kube.psa = 'baseline';
    const checks = await runDoctor(kube, new Agent(agentAnswers()), request);
    expect(line(checks, 'pod-security')).toEqual({
      check: 'pod-security',
      scope: 'shop',
      level: 'warn',
      detail: 'enforce=baseline forbids hostNetwork/hostPID probe pods: use --probe-namespace with a privileged namespace, or label shop pod-security.kubernetes.io/enforce=privileged',
    });
    kube.psa = 'privileged';
    expect(line(await runDoctor(kube, new Agent(agentAnswers()), request), 'pod-security')?.level).toBe('pass');
    kube.psa = new NotFoundError('namespace "probes" not found');
    expect(line(await runDoctor(kube, new Agent(agentAnswers()), { ...request, probeNamespace: 'probes' }), 'pod-security')).toMatchObject({ level: 'fail', scope: 'probes' });
  });

  it('warns when pwru cannot run: no BTF, or a kernel older than 5.3', async () => {
    const noBtf = await runDoctor(new Kube(), new Agent(agentAnswers({ 'ls /sys/kernel/btf/vmlinux': { exitCode: 2, stderr: LS_MISSING } })), request);
    expect(line(noBtf, 'kernel')).toMatchObject({ level: 'warn', detail: 'kernel 6.1.0-18-amd64, no /sys/kernel/btf/vmlinux: pwru needs a kernel built with CONFIG_DEBUG_INFO_BTF; the kernel hops will be missing' });
    const kube = new Kube();
    kube.kernel = '4.19.0-27-amd64';
    expect(line(await runDoctor(kube, new Agent(agentAnswers()), request), 'kernel')?.detail).toBe(
      'kernel 4.19.0-27-amd64: pwru needs Linux >= 5.3; the kernel hops will be missing (trace --probes without pwru)',
    );
  });

  it('falls back to the cilium CLI of agents before 1.15, and fails a node whose agent has neither', async () => {
    const old = new Agent({ 'cilium status -o json': { stdout: '' }, 'cilium status': { stdout: STATUS_TEXT }, 'cilium endpoint list -o json': { stdout: ENDPOINT_GET }, 'ls /sys/kernel/btf/vmlinux': {} });
    expect(line(await runDoctor(new Kube(), old, request), 'cilium')?.detail).toBe('Cilium 1.15.0-rc.1, agent kube-system/cilium-x7k2p, CLI cilium');
    expect(old.calls.slice(0, 2)).toEqual([
      ['cilium-dbg', 'status', '-o', 'json'],
      ['cilium', 'status', '-o', 'json'],
    ]);
    const none = await runDoctor(new Kube(), new Agent({}), request);
    expect(line(none, 'cilium')).toEqual({ check: 'cilium', scope: 'worker-1', level: 'fail', detail: 'neither cilium-dbg nor cilium exists in kube-system/cilium-x7k2p (container cilium-agent): is it a Cilium agent?' });
  });

  it('stops after one line when the API server cannot answer, and fails when there are no agents', async () => {
    const kube = new Kube();
    kube.reviewError = new DatapathError('the API server at https://10.0.0.1:6443 is unreachable (connection refused, ECONNREFUSED): check the cluster address in the kubeconfig, VPN or network', EXIT.error);
    expect(await runDoctor(kube, new Agent(agentAnswers()), request)).toEqual([{ check: 'api', scope: 'access review', level: 'fail', detail: kube.reviewError.message }]);
    const empty = new Kube();
    empty.agents = [];
    expect(line(await runDoctor(empty, new Agent(agentAnswers()), request), 'agents')).toMatchObject({ level: 'fail', detail: 'no Cilium agent pods (label k8s-app=cilium) in kube-system: is Cilium installed there?' });
  });
});

describe('EndpointResolver', () => {
  it('looks each node agent up once for many pods, and shares a failure the same way', async () => {
    const exec = new Agent(agentAnswers());
    const resolver = new EndpointResolver(new Kube(), exec);
    const [a, b] = await Promise.all([resolver.agentOn('worker-1'), resolver.agentOn('worker-1')]);
    expect(a).toBe(b);
    expect(exec.calls.filter((c) => c[1] === 'status')).toHaveLength(2); // -o json, then the text
    const missing = await Promise.allSettled([resolver.agentOn('worker-9'), resolver.agentOn('worker-9')]);
    expect(missing.map((m) => (m.status === 'rejected' ? (m.reason as Error).message : 'resolved'))).toEqual(['no Cilium agent pod on node worker-9', 'no Cilium agent pod on node worker-9']);
  });
});
