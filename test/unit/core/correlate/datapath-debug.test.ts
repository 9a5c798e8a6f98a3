import { parseEndpointGetJson } from '../../../../src/core/parse/cilium-endpoint.js';
import type { ReportEndpoint } from '../../../../src/core/model/report.js';
import { readFixture } from '../../../helpers/fixtures.js';
import { reportOfFixtures } from '../../../helpers/fixture-report.js';

/** The endpoint as a trace resolves it, from the agent's real endpoint get JSON, on node `n1`. */
function endpointOf(file: string): ReportEndpoint {
  const [e] = parseEndpointGetJson(readFixture(file).body.join('\n')).endpoints;
  return {
    pod: e.pod ? `${e.pod.namespace}/${e.pod.name}` : '', node: 'n1', id: e.id, identity: e.identity, ips: e.ips,
    interface: e.interface ?? null, ifindex: e.ifindex ?? null, datapathDebug: e.datapathDebug,
  };
}

const MONITOR = [{ file: 'cilium-monitor/docs-troubleshooting-drop-policy-denied.txt', tool: 'monitor' as const, node: 'n1' }];

describe('DEBUG evidence needs datapath debug', () => {
  it('says DEBUG lines were impossible where the monitored node\'s endpoints have Debug Disabled (the 2025 coredns endpoint)', () => {
    const report = reportOfFixtures('test/fixtures', MONITOR, [endpointOf('test/fixtures/cilium-endpoint/debuginfo-2025-endpoint-get-33-coredns.txt')]);
    expect(report.warnings).toEqual([
      'cilium monitor on n1: datapath debug is off (endpoint option Debug Disabled on kube-system/coredns-54558b56c7-zth5g), so monitor -v could print no DEBUG lines (conntrack lookups, local delivery): the report has no such evidence from them, which says nothing about the packets',
    ]);
  });

  it('says nothing where an endpoint there has Debug Enabled (the 2019 endpoint), nor where no endpoint data shows the option', () => {
    expect(reportOfFixtures('test/fixtures', MONITOR, [endpointOf('test/fixtures/cilium-endpoint/test-fixture-2019-endpoint-get-docker-client.txt')]).warnings).toEqual([]);
    expect(reportOfFixtures('test/fixtures', MONITOR, [{ ...endpointOf('test/fixtures/cilium-endpoint/debuginfo-2025-endpoint-get-33-coredns.txt'), datapathDebug: undefined }]).warnings).toEqual([]);
  });
});
