import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseCiliumStatusJson, parseCiliumStatusText } from '../../../src/core/parse/cilium-status.js';
import { readFixture } from '../../helpers/fixtures.js';
import { expectGolden } from '../../helpers/golden.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const GOLDEN = fileURLToPath(new URL('../../golden/cilium-status/', import.meta.url));
const CLI_REFUSAL = "this is cilium-cli status, not the agent's: run `cilium-dbg status` (or `cilium status` before 1.15) inside the cilium-agent container";

function statusOf(path: string) {
  const r = parseCiliumStatusText(readFixture(join(FIXTURES, path)).body);
  expect(r.unparsed).toEqual([]);
  if (r.status === null) throw new Error(`no status: ${r.error}`);
  return r.status;
}

describe('agent status text', () => {
  it('seed, 1.11.1 (kubectl exec noise, Host Routing: BPF, KPR Strict, BPF masquerading)', () => {
    const s = statusOf('seed/cilium-status.txt');
    expect(s).toMatchObject({
      version: '1.11.1',
      versionDetail: 'v1.11.1-76d34db',
      kubeProxyReplacement: { mode: 'Strict', devices: [{ name: 'ens33', ips: ['192.168.2.61'], directRouting: true }] },
      hostRouting: 'BPF',
      masquerading: { mode: 'BPF', devices: ['ens33'], snatExclusionCidr: '10.0.1.0/24', ipv4: true, ipv6: false },
      nodeMonitor: { enabled: false },
      clusterHealth: { reachable: 2, total: 2, detail: '2/2 reachable (2022-01-22T08:42:27Z)' },
      ipamSummary: 'IPv4: 6/254 allocated from 10.0.1.0/24',
      encryption: { mode: 'Disabled' },
      hubble: { state: 'Disabled' },
      controllers: { healthy: 39, total: 39 },
    });
    expect(s.routingNetwork).toBeUndefined();
    expect(s.fields['Proxy Status']).toBe('OK, ip 10.0.1.159, 0 redirects active on ports 10000-20000');
  });

  it('1.16.5 (Routing: Network: Native Host: Legacy, KPR True, TCX, IPTables masquerading)', () => {
    const s = statusOf('cilium-status/blog-podman-v1.16.5-agent-status.txt');
    expect(s).toMatchObject({
      version: '1.16.5',
      kubeProxyReplacement: { mode: 'True', devices: [{ name: 'eth0', ips: ['10.10.0.83', 'fe80::be24:11ff:fe20:cc1f'], directRouting: true }] },
      routingNetwork: 'Native',
      hostRouting: 'Legacy',
      attachMode: 'TCX',
      deviceMode: 'veth',
      masquerading: { mode: 'IPTables', ipv4: true, ipv6: false },
      nodeMonitor: { enabled: true, cpus: 10 },
      clusterHealth: { reachable: 3, total: 3 },
      hubble: { state: 'Ok', detail: 'Current/Max Flows: 4095/4095 (100.00%), Flows/s: 56.10   Metrics: Ok' },
    });
    expect(s.tunnelProtocol).toBeUndefined();
  });

  it('1.15.0-rc.1 --verbose: CRLF, controller/BPF map/health tables and the Modules Health tree are detail', () => {
    const s = statusOf('cilium-status/wcni-kind-v1.15.0-rc.1-status-verbose-kpr-native.txt');
    expect(s).toMatchObject({ version: '1.15.0-rc.1', versionDetail: 'v1.15.0-rc.1-f582c55c', hostRouting: 'Legacy', clusterHealth: { reachable: 1, total: 3 } });
    expect(s.kubeProxyReplacement?.devices[0].ips).toEqual(['172.18.0.2', 'fc00:f853:ccd:e793::2', 'fe80::42:acff:fe12:2']);
    expect(s.fields['Modules Health']).toBe('');
  });

  it('1.0 and 1.2 docs: no version number in `Cilium: Ok OK`, address-pool IPAM lines', () => {
    const v10 = statusOf('cilium-status/docs-v1.0-k8s-cilium-exec-status.txt');
    expect(v10.version).toBeUndefined();
    expect(v10.agent).toEqual({ state: 'Ok', detail: 'OK' });
    expect(v10.clusterHealth).toMatchObject({ reachable: 1, total: 1 });
    const v12 = statusOf('cilium-status/docs-v1.2-generic-status-ipam.txt');
    expect(v12.ipamSummary).toBe('IPv4: 261/65535 allocated, IPv6: 4/4294967295 allocated');
  });

  it('refuses cilium-cli status', () => {
    expect(parseCiliumStatusText(readFixture(join(FIXTURES, 'cilium-status/blog-zh-kiosk007-v1.17.2-cilium-cli-status-NOT-agent.txt')).body)).toEqual({
      status: null, error: CLI_REFUSAL, unparsed: [],
    });
  });

  // Lines as pkg/client FormatStatusResponse prints them (tabs become aligned spaces).
  it.each([
    ['Routing:                 Network: Tunnel [vxlan]   Host: BPF', { routingNetwork: 'Tunnel', tunnelProtocol: 'vxlan', hostRouting: 'BPF' }],
    ['Routing: Network: Tunnel [geneve] Host: Legacy', { routingNetwork: 'Tunnel', tunnelProtocol: 'geneve', hostRouting: 'Legacy' }],
    ['KubeProxyReplacement:    Disabled   ', { kubeProxyReplacement: { mode: 'Disabled', devices: [] } }],
    ['KubeProxyReplacement: Probe [eth0 10.0.0.1 (Direct Routing), eth1 10.1.0.1]', { kubeProxyReplacement: { mode: 'Probe', devices: [{ name: 'eth0', ips: ['10.0.0.1'], directRouting: true }, { name: 'eth1', ips: ['10.1.0.1'], directRouting: false }] } }],
    ['Masquerading:            BPF (ip-masq-agent)   [eth0, eth1]   10.0.0.0/8 [IPv4: Enabled, IPv6: Disabled]', { masquerading: { mode: 'BPF', ipMasqAgent: true, devices: ['eth0', 'eth1'], snatExclusionCidr: '10.0.0.0/8', ipv4: true, ipv6: false } }],
    ['Masquerading:            Disabled', { masquerading: { mode: 'Disabled' } }],
    ['Encryption:              Wireguard   [NodeEncryption: Disabled, cilium_wg0 (Pubkey: abc=, Port: 51871, Peers: 2)]', { encryption: { mode: 'Wireguard', detail: '[NodeEncryption: Disabled, cilium_wg0 (Pubkey: abc=, Port: 51871, Peers: 2)]' } }],
  ])('%s', (line, expected) => {
    const r = parseCiliumStatusText([line]);
    expect(r.unparsed).toEqual([]);
    expect(r.status).toMatchObject(expected);
  });

  it('lost monitor events under NodeMonitor, and the lines it does not understand', () => {
    const r = parseCiliumStatusText([
      'NodeMonitor:            Listening for events on 4 CPUs with 64x4096 of shared memory',
      '\t12 events lost, 0 unknown notifications',
      'Host Routing:           Turbo',
      'KubeProxyReplacement:   Maybe',
      'just words',
    ]);
    expect(r.status?.nodeMonitor).toEqual({ enabled: true, cpus: 4, lost: 12, unknown: 0 });
    expect(r.unparsed).toEqual([
      { line: 3, text: 'Host Routing:           Turbo', reason: 'unknown host routing mode "Turbo"' },
      { line: 4, text: 'KubeProxyReplacement:   Maybe', reason: 'unknown KubeProxyReplacement mode "Maybe"' },
      { line: 5, text: 'just words', reason: 'not a "Key: value" line nor part of KubeProxyReplacement' },
    ]);
    expect(parseCiliumStatusText(['error: unable to upgrade connection'])).toEqual({
      status: null,
      error: 'no agent status line found',
      unparsed: [{ line: 1, text: 'error: unable to upgrade connection', reason: 'unknown status key "error"' }],
    });
  });
});

/*
 * No real `cilium-dbg status -o json` output is among the fixtures, so these inputs are written from
 * the swagger models in cilium/cilium api/v1/models: status_response.go (top-level keys, including
 * `host-routing` before 1.14 and `routing` after), routing.go (intra-host-routing-mode,
 * inter-host-routing-mode, tunnel-protocol), kube_proxy_replacement.go (mode True|False now,
 * Disabled|Strict|Probe|Partial at 15501b3d; deviceList, devices, directRoutingDevice),
 * host_routing.go, masquerading.go, monitor_status.go, hubble_status.go, cluster_status.go.
 */
describe('agent status JSON (inputs written from the api/v1/models)', () => {
  const current = {
    cilium: { state: 'Ok', msg: '1.16.5 (v1.16.5-ad688277)' },
    kubernetes: { state: 'Ok', msg: '1.32 (v1.32.0) [linux/amd64]', 'k8s-api-versions': ['cilium/v2::CiliumEndpoint'] },
    kvstore: { state: 'Ok', msg: 'Disabled' },
    'kube-proxy-replacement': {
      mode: 'True',
      devices: ['eth0'],
      deviceList: [{ name: 'eth0', ip: ['10.10.0.83', 'fe80::be24:11ff:fe20:cc1f'] }],
      directRoutingDevice: 'eth0',
      features: { nodePort: { enabled: true, mode: 'SNAT' } },
    },
    routing: { 'intra-host-routing-mode': 'BPF', 'inter-host-routing-mode': 'Tunnel', 'tunnel-protocol': 'vxlan' },
    masquerading: { enabled: true, enabledProtocols: { ipv4: true }, mode: 'BPF', 'snat-exclusion-cidr-v4': '10.0.0.0/8' },
    nodeMonitor: { cpus: 10, npages: 64, pagesize: 4096 },
    cluster: { ciliumHealth: { state: 'Ok' }, self: 'kind-worker' },
    ipam: { status: 'IPv4: 21/254 allocated from 10.69.3.0/24, ' },
    hubble: { state: 'Ok', observer: { 'current-flows': 4095, 'max-flows': 4095 }, metrics: { state: 'Ok' } },
    encryption: { mode: 'Disabled' },
    controllers: [{ name: 'a', status: {} }, { name: 'b', status: { 'consecutive-failure-count': 2 } }],
  };

  it('current shape: routing object, KPR True with a device list', () => {
    const r = parseCiliumStatusJson(JSON.stringify(current));
    expect(r.unparsed).toEqual([]);
    expect(r.status).toMatchObject({
      version: '1.16.5',
      versionDetail: 'v1.16.5-ad688277',
      agent: { state: 'Ok', detail: '1.16.5 (v1.16.5-ad688277)' },
      kubeProxyReplacement: { mode: 'True', devices: [{ name: 'eth0', ips: ['10.10.0.83', 'fe80::be24:11ff:fe20:cc1f'], directRouting: true }] },
      hostRouting: 'BPF',
      routingNetwork: 'Tunnel',
      tunnelProtocol: 'vxlan',
      masquerading: { mode: 'BPF', ipv4: true, ipv6: false, snatExclusionCidr: '10.0.0.0/8' },
      nodeMonitor: { enabled: true, cpus: 10 },
      healthDaemon: { state: 'Ok' },
      ipamSummary: 'IPv4: 21/254 allocated from 10.69.3.0/24',
      hubble: { state: 'Ok' },
      encryption: { mode: 'Disabled' },
      controllers: { healthy: 1, total: 2 },
    });
  });

  it('older shape: host-routing.mode, KPR Strict with device names only, no nodeMonitor, masquerading without protocols', () => {
    const older = {
      cilium: { state: 'Ok', msg: '1.11.1 (v1.11.1-76d34db)' },
      'kube-proxy-replacement': { mode: 'Strict', devices: ['ens33'], directRoutingDevice: 'ens33' },
      'host-routing': { mode: 'Legacy' },
      masquerading: { enabled: true, mode: 'iptables' },
    };
    const r = parseCiliumStatusJson(JSON.stringify(older));
    expect(r.status).toMatchObject({
      version: '1.11.1',
      kubeProxyReplacement: { mode: 'Strict', devices: [{ name: 'ens33', ips: [], directRouting: true }] },
      hostRouting: 'Legacy',
      masquerading: { mode: 'Enabled' },
      nodeMonitor: { enabled: false },
    });
    expect(r.status?.routingNetwork).toBeUndefined();
  });

  it('native routing hides the tunnel protocol the agent still reports; iptables masquerading', () => {
    const native = { ...current, routing: { 'intra-host-routing-mode': 'Legacy', 'inter-host-routing-mode': 'Native', 'tunnel-protocol': 'vxlan' }, masquerading: { enabledProtocols: { ipv4: true, ipv6: true }, mode: 'iptables' } };
    const r = parseCiliumStatusJson(JSON.stringify(native));
    expect(r.status).toMatchObject({ routingNetwork: 'Native', hostRouting: 'Legacy', masquerading: { mode: 'IPTables', ipv4: true, ipv6: true } });
    expect(r.status?.tunnelProtocol).toBeUndefined();
  });

  it('unknown enum values are reported, bad input and cilium-cli JSON refused', () => {
    const r = parseCiliumStatusJson(JSON.stringify({ ...current, routing: { 'intra-host-routing-mode': 'Warp', 'inter-host-routing-mode': 'Carrier' }, 'kube-proxy-replacement': { mode: 'Half' } }));
    expect(r.unparsed.map((u) => u.reason)).toEqual([
      'unknown kube-proxy-replacement.mode "Half"',
      'unknown host routing mode "Warp"',
      'unknown routing.inter-host-routing-mode "Carrier"',
    ]);
    expect(parseCiliumStatusJson('{"cilium": ').error).toMatch(/^not valid JSON/);
    expect(parseCiliumStatusJson('[1]').error).toBe('status JSON is not an object');
    expect(parseCiliumStatusJson('{"cilium_status": {}, "daemon_sets": {}}').error).toBe(CLI_REFUSAL);
  });
});

describe('real outputs (golden)', () => {
  const files = ['seed/cilium-status.txt', ...readdirSync(join(FIXTURES, 'cilium-status')).map((f) => `cilium-status/${f}`)];

  it.each(files)('%s', (path) => {
    const { header, body } = readFixture(join(FIXTURES, path));
    const result = parseCiliumStatusText(body);
    expectGolden(JSON.stringify(result, null, 2) + '\n', join(GOLDEN, path.replace(/^.*\//, '').replace(/\.txt$/, '.json')));
    const notes = header.filter((h) => h.startsWith('# note:')).join(' ');
    for (const u of result.unparsed) expect(notes).toContain(`'${u.text.trim()}'`);
    expect(result.status === null).toBe(path.includes('NOT-agent'));
  });
});

describe('keys of agents newer than this parser', () => {
  // The 1.16.5 fixture with one key it does not know put in, once aligned as tabwriter aligns the
  // agent's keys and once not: no public 1.18/1.19 agent status transcript was found, so the key is
  // made up on purpose (it must not be interpreted, only kept).
  const { body } = readFixture(join(FIXTURES, 'cilium-status', 'blog-podman-v1.16.5-agent-status.txt'));
  const at = body.findIndex((l) => l.startsWith('Attach Mode:'));

  it('in the column of the others: a line of the same table, kept in fields, understood', () => {
    const lines = [...body.slice(0, at), 'Frobnication:            Enabled   [eth0]', ...body.slice(at)];
    const r = parseCiliumStatusText(lines);
    expect(r.unparsed).toEqual([]);
    expect(r.status?.fields.Frobnication).toBe('Enabled   [eth0]');
    const { fields: _f, ...withKey } = r.status!;
    const { fields: _g, ...without } = parseCiliumStatusText(body).status!;
    expect(withKey).toEqual(without);
  });

  it('out of line: not understood', () => {
    const lines = [...body.slice(0, at), 'Frobnication: Enabled', ...body.slice(at)];
    expect(parseCiliumStatusText(lines).unparsed.map((u) => u.reason)).toEqual(['unknown status key "Frobnication"']);
  });
});
