import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { renderers } from '../../../../src/render/index.js';
import { analyzeFixtures, conclusionOf } from './analyze-fixture.js';

/**
 * Hops without packet identity (cilium monitor without -v, pwru skbs) belong to their flow: they
 * are shown under it, never counted as packets, and a flow only pwru saw shows its skbs.
 */
const MINIKUBE = 'test/fixtures/cilium-monitor/notes-zh-minikube-related-to-host-to-pod.txt';
const PWRU_VXLAN = 'test/fixtures/pwru/gh-pwru-pr494-2025-output-tunnel-vxlan.txt';

describe('hops by flow', () => {
  it('monitor trace records of one TCP connection are one record per packet, under the flow, not packets', async () => {
    const report = await analyzeFixtures([MINIKUBE]);
    const [request, reply] = report.flows;
    const shape = (f: typeof request) => ({
      packets: f.packets,
      morePackets: f.morePackets,
      moreFlowHops: f.moreFlowHops,
      flowHops: f.flowHops?.map((h) => [h.point, h.tool, h.detail, h.match, h.deltaUs]),
    });
    const ep = (state: string) => ['cilium:?/1776', 'monitor', `to-endpoint 1776, identity 1->78310, state ${state}`, 'flow', null];
    expect(shape(request)).toEqual({
      packets: [],
      morePackets: 0,
      moreFlowHops: undefined,
      // SYN, ACK, ACK, ACK FIN, ACK: five packets, one record each at endpoint 1776.
      flowHops: [ep('new'), ep('established'), ep('established'), ep('established'), ep('established')],
    });
    const stack = ['cilium:?', 'monitor', 'to-stack, identity 78310->1, state reply', 'flow', null];
    expect(shape(reply)).toEqual({ packets: [], morePackets: 0, moreFlowHops: undefined, flowHops: [stack, stack, stack] });
    const table = renderers.table(report, { color: false, width: 120 });
    expect(table).not.toContain('no packet of this flow was seen');
    expect(table).not.toMatch(/more packets? of this flow/);
    expect(table).toContain('  by flow (the tools could not tell its packets apart)\n');
    const validate = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile(JSON.parse(readFileSync('docs/report.schema.json', 'utf8')));
    expect(validate(JSON.parse(renderers.json(report, { color: false })))).toBe(true);
  });

  it('records beyond --max-packets are counted as hops by flow, not as packets', async () => {
    const report = await analyzeFixtures([MINIKUBE], { maxPackets: 2 });
    expect(report.flows.map((f) => [f.packets.length, f.morePackets, f.flowHops?.length, f.moreFlowHops])).toEqual([
      [0, 0, 2, 3],
      [0, 0, 2, 1],
    ]);
  });

  it('a flow only pwru saw shows its skb, not "no packet of this flow was seen"', async () => {
    const report = await analyzeFixtures([PWRU_VXLAN]);
    expect(report.flows).toHaveLength(1);
    const [flow] = report.flows;
    expect({ packets: flow.packets, morePackets: flow.morePackets, moreFlowHops: flow.moreFlowHops, flowHops: flow.flowHops }).toEqual({
      packets: [],
      morePackets: 0,
      moreFlowHops: undefined,
      flowHops: [
        {
          point: 'kernel:?',
          tool: 'pwru',
          time: null,
          deltaUs: null,
          detail: 'skb 0xffff0000ea5d7ce8: udp_queue_rcv_skb',
          match: 'flow',
          facts: { skb: '0xffff0000ea5d7ce8', iface: 'eth0', netns: 4026532458, functions: 'udp_queue_rcv_skb' },
        },
      ],
    });
    expect(conclusionOf(flow).seenAt).toEqual(['kernel:?']);
    const table = renderers.table(report, { color: false, width: 120 });
    expect(table).not.toContain('no packet of this flow was seen');
    expect(table).toMatch(/kernel:\? +pwru +skb 0xffff0000ea5d7ce8: udp_queue_rcv_skb \(by flow\)/);
  });
});
