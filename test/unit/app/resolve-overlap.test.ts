/**
 * What the resolver asks a node's agent. For a trace (resolvePod), one exec per pod: `endpoint
 * get` with the CLI the agent image's version suggests, and with the other only when the image
 * lacks it; the CLI that answered is the agent's (no `status`: a trace needs neither routing nor
 * version). For `endpoints` (resolve), the endpoint is asked for while the agent's status is read
 * (which also tells which CLI the agent has), and again only when the status found the other CLI.
 * Agent outputs are real fixtures.
 */
import type { ExecPort, ExecRequest, ExecResult, KubePort, PodInfo, PodRef } from '../../../src/app/ports.js';
import { EndpointResolver } from '../../../src/app/resolve.js';
import { readFixture } from '../../helpers/fixtures.js';

const STATUS_TEXT = readFixture('test/fixtures/cilium-status/wcni-kind-v1.15.0-rc.1-status-verbose-kpr-native.txt').body.join('\n') + '\n';
const ENDPOINT_GET_33 = readFixture('test/fixtures/cilium-endpoint/debuginfo-2025-endpoint-get-33-coredns.txt').body.join('\n') + '\n';
/** A real CiliumEndpoint (endpoint 457 of another cluster), renumbered to 33: the endpoint the `endpoint get` fixture describes. */
const CEP_33 = (() => {
  const cep = JSON.parse(readFixture('test/fixtures/cilium-endpoint/wcni-kind-v1.15-ciliumendpoint-crd-json.txt').body.join('\n')) as { status: { id: number } };
  cep.status.id = 33;
  return cep;
})();
const STATUS_MS = 80;

const coredns: PodInfo = {
  namespace: 'kube-system',
  name: 'coredns-54558b56c7-zth5g',
  uid: 'u2',
  node: 'worker-1',
  ips: ['10.0.0.200'],
  hostNetwork: false,
  phase: 'Running',
  containers: [{ name: 'coredns', image: 'registry.k8s.io/coredns/coredns:v1.11.1' }],
  labels: {},
};

function agentPod(image: string): PodInfo {
  return { namespace: 'kube-system', name: 'cilium-x7k2p', uid: 'u1', node: 'worker-1', ips: ['172.18.0.2'], hostNetwork: true, phase: 'Running', containers: [{ name: 'cilium-agent', image }], labels: { 'k8s-app': 'cilium' } };
}

/** The KubePort parts the resolver reads. */
function kube(image: string): KubePort {
  const ports: Pick<KubePort, 'getPod' | 'getCiliumEndpoint' | 'findAgentPod'> = {
    getPod: async (ref: PodRef) => {
      if (ref.name !== coredns.name) throw new Error(`unexpected pod ${ref.name}`);
      return coredns;
    },
    getCiliumEndpoint: async () => CEP_33,
    findAgentPod: async () => agentPod(image),
  };
  return ports as KubePort;
}

/** An agent whose image has one CLI; `status` is slow, as on a busy agent. Records when each command ran. */
class Agent implements ExecPort {
  readonly calls: { argv: string; start: number; end: number }[] = [];
  constructor(private readonly cli: 'cilium-dbg' | 'cilium' | 'none') {}
  async exec(req: ExecRequest): Promise<ExecResult> {
    const start = performance.now();
    const base = { pod: req.pod, container: req.container, argv: req.argv, exitCode: 0, stdout: '', stderr: '', durationMs: 1, canceled: false };
    let answer: Partial<ExecResult>;
    if (req.argv[0] !== this.cli) answer = { exitCode: 127, commandNotFound: true, stderr: `exec: "${req.argv[0]}": executable file not found in $PATH` };
    else if (req.argv[1] === 'status') {
      await new Promise((r) => setTimeout(r, STATUS_MS));
      // -o json printed nothing usable (as an old agent may); the text is real.
      answer = req.argv.includes('json') ? { stdout: '' } : { stdout: STATUS_TEXT };
    } else if (req.argv.slice(1).join(' ') === 'endpoint get 33 -o json') answer = { stdout: ENDPOINT_GET_33 };
    else answer = { exitCode: 1, stderr: 'Error: unexpected command\n' };
    this.calls.push({ argv: req.argv.join(' '), start, end: performance.now() });
    return { ...base, ...answer };
  }
}

describe('EndpointResolver for a trace: one agent exec per pod, no status', () => {
  it('asks a 1.16 agent (cilium-dbg) for the endpoint only', async () => {
    const agent = new Agent('cilium-dbg');
    const r = await new EndpointResolver(kube('quay.io/cilium/cilium:v1.16.5'), agent).resolvePod({ namespace: 'kube-system', name: coredns.name });
    expect(r.problems).toEqual([]);
    expect(r.endpoint).toMatchObject({ id: 33, interface: expect.stringMatching(/^lxc/) });
    expect(r.agent).toEqual({ pod: { namespace: 'kube-system', name: 'cilium-x7k2p' }, container: 'cilium-agent', cli: 'cilium-dbg' });
    expect(agent.calls.map((c) => c.argv)).toEqual(['cilium-dbg endpoint get 33 -o json']);
  });

  it('uses cilium, not cilium-dbg, for an image before 1.15', async () => {
    const agent = new Agent('cilium');
    const r = await new EndpointResolver(kube('quay.io/cilium/cilium:v1.14.4'), agent).resolvePod({ namespace: 'kube-system', name: coredns.name });
    expect(r.endpoint?.id).toBe(33);
    expect(r.agent?.cli).toBe('cilium');
    expect(agent.calls.map((c) => c.argv)).toEqual(['cilium endpoint get 33 -o json']);
  });

  it('asks again with the other CLI when the image misled (a 1.16 tag on an image with only cilium), and keeps it for the node', async () => {
    const agent = new Agent('cilium');
    const resolver = new EndpointResolver(kube('registry.example/cilium-custom:v1.16.5'), agent);
    const r = await resolver.resolvePod({ namespace: 'kube-system', name: coredns.name });
    expect(r.problems).toEqual([]);
    expect(r.endpoint?.id).toBe(33);
    expect(r.agent?.cli).toBe('cilium');
    expect(agent.calls.map((c) => c.argv)).toEqual(['cilium-dbg endpoint get 33 -o json', 'cilium endpoint get 33 -o json']);
    // Another pod of that node (here the same one again) goes straight to the CLI that answered.
    await resolver.resolvePod({ namespace: 'kube-system', name: coredns.name });
    expect(agent.calls.map((c) => c.argv).slice(2)).toEqual(['cilium endpoint get 33 -o json']);
  });

  it('says so when the agent has neither CLI, and gives no agent', async () => {
    const agent = new Agent('none');
    const r = await new EndpointResolver(kube('quay.io/cilium/cilium:v1.16.5'), agent).resolvePod({ namespace: 'kube-system', name: coredns.name });
    expect(r.agent).toBeUndefined();
    expect(r.endpoint).toBeUndefined();
    expect(r.problems).toEqual(['neither cilium-dbg nor cilium exists in kube-system/cilium-x7k2p (container cilium-agent): is it a Cilium agent?']);
  });

  it('keeps the agent when only the endpoint is missing in it', async () => {
    const agent = new Agent('cilium-dbg');
    const ports = kube('quay.io/cilium/cilium:v1.16.5');
    const cep = JSON.parse(JSON.stringify(CEP_33)) as { status: { id: number } };
    cep.status.id = 34;
    ports.getCiliumEndpoint = async () => cep;
    const r = await new EndpointResolver(ports, agent).resolvePod({ namespace: 'kube-system', name: coredns.name });
    expect(r.agent?.cli).toBe('cilium-dbg');
    expect(r.endpoint).toBeUndefined();
    expect(r.problems).toEqual([expect.stringMatching(/^the CiliumEndpoint of pod kube-system\/coredns-54558b56c7-zth5g says endpoint 34, but cilium-dbg endpoint get 34 in kube-system\/cilium-x7k2p failed: Error: unexpected command/)]);
  });
});

describe('EndpointResolver for endpoints: the status, and the endpoint asked for meanwhile', () => {
  it('asks for the endpoint while the status is read (1.16 image: cilium-dbg), once', async () => {
    const agent = new Agent('cilium-dbg');
    const r = await new EndpointResolver(kube('quay.io/cilium/cilium:v1.16.5'), agent).resolve({ namespace: 'kube-system', name: coredns.name });
    expect(r).toMatchObject({ id: 33, interface: expect.stringMatching(/^lxc/) });
    expect(r.agent.cli).toBe('cilium-dbg');
    expect(r.agent.routing.source).toBe('cilium-dbg status');
    const get = agent.calls.filter((c) => c.argv.includes('endpoint get'));
    expect(get.map((c) => c.argv)).toEqual(['cilium-dbg endpoint get 33 -o json']);
    const firstStatus = agent.calls.find((c) => c.argv === 'cilium-dbg status -o json')!;
    expect(get[0].start).toBeLessThan(firstStatus.end);
  });

  it('asks again with the CLI the agent has when its image misled', async () => {
    const agent = new Agent('cilium');
    const r = await new EndpointResolver(kube('registry.example/cilium-custom:v1.16.5'), agent).resolve({ namespace: 'kube-system', name: coredns.name });
    expect(r.id).toBe(33);
    expect(r.agent.cli).toBe('cilium');
    expect(agent.calls.filter((c) => c.argv.includes('endpoint get')).map((c) => c.argv)).toEqual(['cilium-dbg endpoint get 33 -o json', 'cilium endpoint get 33 -o json']);
  });
});
