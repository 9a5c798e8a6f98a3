/**
 * Services in the lab, as a user meets them: real kubectl reads the Service and EndpointSlice
 * objects of the lab's API server; the emulated agent's `service list` shows what its datapath's
 * service maps hold, in 1.16's format, and the plugin's own parser reads it; then
 * `kubectl datapath` traces through the Service's load balancer.
 */
import { spawnSync } from 'node:child_process';
import type { HopReport, ReportFlow } from '../../src/core/model/report.js';
import { parseLbState } from '../../src/core/parse/cilium-lb.js';
import { cli, useApiLab } from './api-lab.js';
import { describeAsRoot } from './require-root.js';

describeAsRoot('Services in the lab (bpf host routing, native routing, per-packet LB)', () => {
  const lab = useApiLab('disabled');
  const kubectl = (...args: string[]) => spawnSync('kubectl', ['--kubeconfig', lab().kubeconfig, ...args], { encoding: 'utf8', timeout: 30_000 });

  it('real kubectl: get svc, get endpointslices and describe svc show the ClusterIPs and the backends the selectors match', () => {
    const svc = kubectl('get', 'svc', '-o', 'wide');
    const slices = kubectl('get', 'endpointslices');
    const describe = kubectl('describe', 'svc', 'web');
    const strip = (text: string) => text.trim().split('\n').map((l) => l.replace(/\s+\d+s(\s|$)/, ' AGE$1').replace(/\s+/g, ' ').trim());
    expect({ svc: strip(svc.stdout), slices: strip(slices.stdout).map((l) => l.replace(/^(web|nobackend)-[a-z0-9]{5}/, '$1-*')), status: [svc.status, slices.status, describe.status] }).toEqual({
      svc: ['NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE SELECTOR', 'nobackend ClusterIP 10.96.100.20 <none> 80/TCP AGE app=nobackend', 'web ClusterIP 10.96.100.10 <none> 80/TCP,53/UDP AGE run=web'],
      slices: ['NAME ADDRESSTYPE PORTS ENDPOINTS AGE', 'nobackend-* IPv4 <unset> <unset> AGE', 'web-* IPv4 80,53 10.0.2.87 AGE'],
      status: [0, 0, 0],
    });
    expect(describe.stdout.split('\n').filter((l) => /^(Port|TargetPort|Endpoints|IP):/.test(l)).map((l) => l.replace(/\s+/g, ' '))).toEqual([
      'IP: 10.96.100.10', 'Port: http 80/TCP', 'TargetPort: 80/TCP', 'Endpoints: 10.0.2.87:80', 'Port: dns 53/UDP', 'TargetPort: 53/UDP', 'Endpoints: 10.0.2.87:53',
    ]);
  }, 60_000);

  it("the agent's service list (emulated, 1.16 format) is what its maps hold, and the plugin's parser reads it whole", () => {
    const r = kubectl('-n', 'kube-system', 'exec', 'cilium-dqnsk', '--', 'cilium-dbg', 'service', 'list');
    expect(r.stdout).toBe([
      'ID   Frontend              Service Type   Backend                          ',
      '1    10.96.100.10:80/TCP   ClusterIP      1 => 10.0.2.87:80/TCP (active)   ',
      '2    10.96.100.10:53/UDP   ClusterIP      1 => 10.0.2.87:53/UDP (active)   ',
      '3    10.96.100.20:80/TCP   ClusterIP                                       ',
      '',
    ].join('\n'));
    const parsed = parseLbState(r.stdout.split('\n'));
    expect(parsed.unparsed).toEqual([]);
    expect(parsed.state.services.map((s) => [s.id, `${s.frontend.ip}:${s.frontend.port}`, s.type, s.backends.map((b) => `${b.ip}:${b.port}`)])).toEqual([
      [1, '10.96.100.10:80', 'ClusterIP', ['10.0.2.87:80']],
      [2, '10.96.100.10:53', 'ClusterIP', ['10.0.2.87:53']],
      [3, '10.96.100.20:80', 'ClusterIP', []],
    ]);
  }, 60_000);

  const traceJson = async (...args: string[]) => {
    const r = await cli(['trace', ...args, '--kubeconfig', lab().kubeconfig, '-o', 'json', '--count', '1']);
    return { code: r.code, err: r.err, report: r.out ? (JSON.parse(r.out) as HopReport) : undefined };
  };
  /** The one flow of a direction from or to the client pod: what the report concludes about it, whole. */
  const conclusion = (report: HopReport, client: string, direction: 'request' | 'reply') => {
    const flows = report.flows.filter((f) => f.direction === direction && (direction === 'request' ? f.source?.pod : f.destination?.pod) === client);
    if (flows.length !== 1) throw new Error(`${flows.length} ${direction} flows of ${client}: ${report.flows.map((f) => `${f.src} > ${f.dst}`).join(', ')}`);
    const f: ReportFlow = flows[0];
    return {
      protocol: f.protocol, src: `${f.srcIp}:${f.source?.port === undefined ? '?' : direction === 'request' ? '*' : f.source.port}`, dst: `${f.dstIp}:${direction === 'reply' ? '*' : f.destination?.port}`,
      path: f.path, verdict: f.verdict,
      // pwru (kernel:NODE) sees a translation when it follows that skb across the change, which
      // depends on the skbs it was given: its entries are checked apart (pwruSaw).
      translations: (f.translations ?? []).filter((t) => !t.point.startsWith('kernel:')).map((t) => `${t.kind} ${t.from} -> ${t.to} at ${t.point}`),
    };
  };
  /** The translations pwru saw, each of which must be one of those the captures prove. */
  const pwruSaw = (report: HopReport) => [...new Set(report.flows.flatMap((f) => (f.translations ?? []).filter((t) => t.point.startsWith('kernel:')).map((t) => `${f.direction} ${t.kind} ${t.from} -> ${t.to} at ${t.point}`)))];
  const lxc = (pod: string) => lab().state.pods.find((p) => p.name === pod)!.lxc!.name;

  it('trace same svc/web (ClusterIP across nodes, per-packet LB, tcp:80 by default): DNAT at same\'s lxc to web, the reply translated back on bpf1, both delivered; the agent\'s table confirms the backend', async () => {
    const { code, report } = await traceJson('same', 'svc/web');
    expect(code).toBe(0);
    expect(report!.inputs.filter((i) => i.tool === 'lb-state').map((i) => `${i.name} ${i.status}`)).toEqual(['service-list-bpf1.txt ok']);
    expect({ request: conclusion(report!, 'same', 'request'), reply: conclusion(report!, 'same', 'reply') }).toEqual({
      request: {
        protocol: 'tcp', src: '10.0.1.135:*', dst: '10.96.100.10:80', path: ['native-routing', 'redirect-peer'], verdict: 'delivered',
        translations: [`dnat 10.96.100.10:80 -> 10.0.2.87:80 at between host:bpf1/${lxc('same')} and host:bpf1/ens33`],
      },
      reply: {
        protocol: 'tcp', src: '10.96.100.10:80', dst: '10.0.1.135:*', path: ['redirect-neigh', 'native-routing', 'redirect-peer'], verdict: 'delivered',
        translations: ['revnat 10.0.2.87:80 -> 10.96.100.10:80 at between host:bpf1/ens33 and pod:default/same/eth0'],
      },
    });
    for (const seen of pwruSaw(report!)) expect(['request dnat 10.96.100.10:80 -> 10.0.2.87:80 at kernel:bpf1', 'reply revnat 10.0.2.87:80 -> 10.96.100.10:80 at kernel:bpf1']).toContain(seen);
    const dnat = report!.flows.flatMap((f) => f.translations ?? []).find((t) => t.kind === 'dnat' && !t.point.startsWith('kernel:'))!;
    expect(dnat.evidence).toMatch(/^the same packet \(tcp \[S\] seq \d+, IPv4 id \d+\) was captured at host:bpf1\/lxc\w+ to 10\.96\.100\.10:80, then at host:bpf1\/ens33 to 10\.0\.2\.87:80; the agent's service table \(service-list-bpf1\.txt\) lists 10\.0\.2\.87:80 as a backend of 10\.96\.100\.10:80$/);
  }, 120_000);

  it('trace cni-x7k2m svc/web:dns (same node, UDP): DNAT between cni-x7k2m\'s lxc and web, the echo translated back between web\'s lxc and cni-x7k2m', async () => {
    const { code, report } = await traceJson('cni-x7k2m', 'svc/web:dns');
    expect(code).toBe(0);
    expect({ request: conclusion(report!, 'cni-x7k2m', 'request'), reply: conclusion(report!, 'cni-x7k2m', 'reply') }).toEqual({
      request: {
        protocol: 'udp', src: '10.0.2.41:*', dst: '10.96.100.10:53', path: ['redirect-peer'], verdict: 'delivered',
        translations: [`dnat 10.96.100.10:53 -> 10.0.2.87:53 at between host:bpf2/${lxc('cni-x7k2m')} and pod:default/web/eth0`],
      },
      reply: {
        protocol: 'udp', src: '10.96.100.10:53', dst: '10.0.2.41:*', path: ['redirect-peer'], verdict: 'delivered',
        translations: [`revnat 10.0.2.87:53 -> 10.96.100.10:53 at between host:bpf2/${lxc('web')} and pod:default/cni-x7k2m/eth0`],
      },
    });
    for (const seen of pwruSaw(report!)) expect(['request dnat 10.96.100.10:53 -> 10.0.2.87:53 at kernel:bpf2', 'reply revnat 10.0.2.87:53 -> 10.96.100.10:53 at kernel:bpf2']).toContain(seen);
  }, 120_000);

  it('a ClusterIP:PORT names the same Service; a Service without backends and a --backend that is none are one-line errors', async () => {
    const byAddress = await traceJson('same', '10.96.100.10:80');
    expect(byAddress.code).toBe(0);
    expect(conclusion(byAddress.report!, 'same', 'request').translations).toEqual([`dnat 10.96.100.10:80 -> 10.0.2.87:80 at between host:bpf1/${lxc('same')} and host:bpf1/ens33`]);
    const none = await traceJson('same', 'svc/nobackend');
    expect({ code: none.code, err: none.err }).toEqual({
      code: 1,
      err: 'error: service default/nobackend has no ready backends (its EndpointSlices list none): Cilium\'s load balancer drops its traffic ("Service backend not found"); check the Service\'s selector and its pods\n',
    });
    const wrong = await traceJson('same', 'svc/web', '--backend', 'nope');
    expect({ code: wrong.code, err: wrong.err }).toEqual({ code: 2, err: 'error: --backend nope: not a backend of service default/web (its backends: 10.0.2.87:80 (default/web))\n' });
  }, 120_000);
});
