/**
 * Services in the lab, as a user meets them: real kubectl reads the Service and EndpointSlice
 * objects of the lab's API server; the emulated agent's `service list` shows what its datapath's
 * service maps hold, in 1.16's format, and the plugin's own parser reads it; then
 * `kubectl datapath` traces through the Service's load balancer.
 */
import { spawnSync } from 'node:child_process';
import { parseLbState } from '../../src/core/parse/cilium-lb.js';
import { useApiLab } from './api-lab.js';
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
});
