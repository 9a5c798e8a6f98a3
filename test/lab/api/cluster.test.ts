/**
 * The cluster model without the network: state.json changes become watch events (and unchanged
 * rewrites none), API-created pods go Pending -> Running, non-hostNetwork ones stay Pending, and
 * exec targets resolve to the pod's or the node's namespace.
 */
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LabPod, LabState } from '../state.js';
import { LabCluster, PENDING_MS } from './cluster.js';
import type { KubeObject } from './objects.js';
import type { StoreEvent } from './store.js';

const pod = (name: string, extra: Partial<LabPod> = {}): LabPod => ({
  namespace: 'default',
  name,
  uid: `uid-${name}`,
  node: 'bpf1',
  netns: `dplab-unit-${name}`,
  hostNetwork: false,
  ip: '10.0.1.5',
  endpointId: 100,
  identity: 200,
  labels: { run: name },
  image: 'nicolaka/netshoot:v0.13',
  containers: [name],
  ...extra,
});

describe('LabCluster', () => {
  let dir: string;
  let statePath: string;
  let state: LabState;
  let cluster: LabCluster;
  let events: StoreEvent[];
  let writes = 0;

  const writeState = (): void => {
    writeFileSync(statePath, JSON.stringify(state));
    const t = new Date(Date.now() + ++writes * 1000); // a distinct mtime even within one clock tick
    utimesSync(statePath, t, t);
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dplab-cluster-'));
    statePath = join(dir, 'state.json');
    state = {
      version: 1,
      dir,
      mode: 'bpf',
      tunnel: 'disabled',
      ciliumVersion: '1.16.5',
      createdAt: '2026-11-25T10:00:00Z',
      nodes: [{ name: 'bpf1', netns: 'dplab-unit-bpf1', ip: '192.168.2.61', underlayIf: 'eth0', underlayMac: '02:00:00:00:00:01', podCidr: '10.0.1.0/24', routerIp: '10.0.1.1', ciliumHostMac: '02:00:00:00:00:02', kernel: '6.1.0' }],
      pods: [pod('same')],
    };
    writeState();
    cluster = new LabCluster(statePath, 'Debian GNU/Linux 12 (bookworm)', () => undefined);
    events = [];
    cluster.store.subscribe((e) => events.push(e));
  });

  afterEach(() => {
    cluster.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the state pods, a synthesized agent per node, their CiliumEndpoints and namespaces', () => {
    expect(cluster.store.list('pods').map((p) => `${p.metadata.namespace}/${p.metadata.name}`)).toEqual(['default/same', expect.stringMatching(/^kube-system\/cilium-[a-z0-9]{5}$/)]);
    expect(cluster.store.list('ciliumendpoints').map((c) => c.metadata.name)).toEqual(['same']);
    expect(cluster.store.list('namespaces').map((n) => n.metadata.name)).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system']);
  });

  it('sends no event when state.json is rewritten unchanged (e.g. its api field), and real events when pods change', () => {
    const rv = cluster.store.resourceVersion;
    state.api = { port: 1, pid: 1, kubeconfig: 'k', caFile: 'c', tokens: { admin: 'a', noexec: 'n' } };
    writeState();
    cluster.reloadIfChanged();
    expect(events).toEqual([]);
    expect(cluster.store.resourceVersion).toBe(rv);

    state.pods.push(pod('web', { ip: '10.0.1.9', endpointId: 101 }));
    writeState();
    cluster.reloadIfChanged();
    expect(events.map((e) => `${e.type} ${e.resource} ${e.object.metadata.name}`)).toEqual(['ADDED pods web', 'ADDED ciliumendpoints web', 'MODIFIED endpointslices web-5wpwz']);

    events.length = 0;
    state.pods = state.pods.filter((p) => p.name !== 'same');
    writeState();
    cluster.reloadIfChanged();
    expect(events.map((e) => `${e.type} ${e.resource} ${e.object.metadata.name}`)).toEqual(['DELETED pods same', 'DELETED ciliumendpoints same']);
    // The web Service's EndpointSlice followed the pod its selector matches (one more event).
    expect(Number(events[1].object.metadata.resourceVersion)).toBe(rv + 5);
  });

  it('runs a hostNetwork pod created through the API after a short Pending, in the node namespace', async () => {
    const body = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { generateName: 'probe-' },
      spec: { hostNetwork: true, nodeName: 'bpf1', containers: [{ name: 'probe', image: 'nicolaka/netshoot:v0.13' }] },
    } as unknown as KubeObject;
    const created = cluster.createPod('default', body);
    expect(created.metadata.name).toMatch(/^probe-[a-z0-9]{5}$/);
    expect(created.status.phase).toBe('Pending');
    expect(() => cluster.execTarget('default', created.metadata.name, 'probe')).toThrow('container not found ("probe")');
    await new Promise((r) => setTimeout(r, PENDING_MS + 100));
    const running = cluster.store.get('pods', 'default', created.metadata.name) as KubeObject;
    expect(running.status).toMatchObject({ phase: 'Running', podIP: '192.168.2.61', hostIP: '192.168.2.61' });
    const target = cluster.execTarget('default', created.metadata.name, '');
    // No volume mounts the host's /run/netns: the container's is empty; the node's holds its pods.
    expect(target).toMatchObject({ netns: 'dplab-unit-bpf1', container: 'probe', visibleNetns: [], nodeNetnsNames: ['dplab-unit-same'], hostPID: false });
    expect(target.capabilities).toBe('-all,+audit_write,+chown,+dac_override,+fowner,+fsetid,+kill,+mknod,+net_bind_service,+net_raw,+setfcap,+setgid,+setpcap,+setuid,+sys_chroot');
    expect(cluster.execTarget('default', 'same', 'same')).toMatchObject({ netns: 'dplab-unit-same', visibleNetns: [] });
  });

  it('keeps a pod Pending, with the reason, when the lab cannot give it a network', async () => {
    const body = { metadata: { name: 'app' }, spec: { nodeName: 'bpf1', containers: [{ name: 'app', image: 'nginx' }] } } as unknown as KubeObject;
    cluster.createPod('default', body);
    await new Promise((r) => setTimeout(r, PENDING_MS + 100));
    const app = cluster.store.get('pods', 'default', 'app') as KubeObject;
    expect(app.status.phase).toBe('Pending');
    expect(app.metadata.annotations?.['lab.kubectl-datapath.io/pending-reason']).toContain('hostNetwork');
  });

  it('validates creates like the apiserver', () => {
    expect(() => cluster.createPod('default', { metadata: {}, spec: { containers: [] } } as unknown as KubeObject)).toThrow(
      'Pod "" is invalid: metadata.name: Required value: name or generateName is required, spec.containers: Required value',
    );
    expect(() => cluster.createPod('nope', { metadata: { name: 'x' }, spec: { containers: [{ name: 'c', image: 'i' }] } } as unknown as KubeObject)).toThrow(
      'namespaces "nope" not found',
    );
    expect(() => cluster.createPod('default', { metadata: { name: 'same' }, spec: { containers: [{ name: 'c', image: 'i' }] } } as unknown as KubeObject)).toThrow(
      'pods "same" already exists',
    );
  });
});
