import { FlowAccumulator, type StreamInfo } from '../../../../src/core/correlate/accumulator.js';
import { streamParserFor } from '../../../../src/core/analyze/formats.js';
import type { ProbeEvent } from '../../../../src/core/model/event.js';

/** The -v records of one ping through endpoint 2836, as the seed's monitor printed them. */
function pingRecords(icmpId: number, deliveredTo: number): string[] {
  return [
    `CPU 02: MARK 0x0 FROM 2836 DEBUG: Conntrack lookup 1/2: src=10.0.1.135:${icmpId} dst=10.0.1.180:0`,
    'CPU 02: MARK 0x0 FROM 2836 DEBUG: Conntrack lookup 2/2: nexthdr=1 flags=1',
    'CPU 02: MARK 0x0 FROM 2836 DEBUG: CT verdict: New, revnat=0',
    'CPU 02: MARK 0x0 FROM 2836 DEBUG: Successfully mapped addr=10.0.1.180 to identity=37483',
    `CPU 02: MARK 0x0 FROM 2836 DEBUG: Attempting local delivery for container id ${deliveredTo} from seclabel 31009`,
  ];
}

function accumulate(lines: string[], maxPackets: number): FlowAccumulator {
  const parser = streamParserFor('monitor');
  const acc = new FlowAccumulator(maxPackets);
  const stream: StreamInfo = { index: 0, name: 'monitor.txt', tool: 'monitor', node: 'bpf1' };
  let ctx = parser.initial();
  let pending: ProbeEvent | undefined;
  for (const line of lines) {
    const { result, ctx: next } = parser.parse(line, ctx);
    ctx = next;
    if (result.kind === 'event') {
      if (pending) acc.add(stream, pending);
      pending = result.event;
    } else if (result.kind === 'amend') pending = result.event;
  }
  if (pending) acc.add(stream, pending);
  return acc;
}

describe('FlowAccumulator beyond the packets kept in detail', () => {
  const lines = [...pingRecords(22016, 3663), ...pingRecords(22017, 3663), ...pingRecords(22018, 4000)];

  it('keeps the first monitor record group whole and only counts the others', () => {
    const [flow] = accumulate(lines, 1).flows.values();
    const kept = flow.unkeyed.get(0)!;
    expect(kept).toHaveLength(1);
    expect(kept[0].detail).toBe('CT new; 10.0.1.180 -> identity 37483; local delivery to endpoint 3663');
    expect(kept[0].facts).toEqual({ ct: 'new', dstIdentity: 37483, srcIdentity: 31009, deliveredTo: 3663 });
    expect(flow.extraUnkeyed).toBe(2);
  });

  it('still takes the path evidence of the counted groups', () => {
    const [flow] = accumulate(lines, 1).flows.values();
    expect([...flow.evidence.monitor.keys()]).toEqual(['ct-new', 'local-delivery:3663', 'local-delivery:4000']);
    expect(flow.evidence.seen.get('0|ep:2836')?.count).toBe(3);
  });

  it('gives the same report data when every group fits', () => {
    const [flow] = accumulate(lines, 10).flows.values();
    expect(flow.unkeyed.get(0)!.map((h) => h.detail)).toEqual([
      'CT new; 10.0.1.180 -> identity 37483; local delivery to endpoint 3663',
      'CT new; 10.0.1.180 -> identity 37483; local delivery to endpoint 3663',
      'CT new; 10.0.1.180 -> identity 37483; local delivery to endpoint 4000',
    ]);
    expect(flow.extraUnkeyed).toBe(0);
  });
});

describe('FlowAccumulator flow lookup', () => {
  it('finds the flows of a source with many destinations again, before and after they outgrow the short list', () => {
    const parser = streamParserFor('tcpdump');
    const acc = new FlowAccumulator(10);
    const stream: StreamInfo = { index: 0, name: 'eth0.txt', tool: 'tcpdump', point: 'pod:default/same/eth0' };
    const line = (dst: number, seq: number) => `09:06:46.${String(100000 + seq).padStart(6, '0')} IP 10.0.1.135 > 10.0.2.${dst}: ICMP echo request, id 7, seq ${seq}, length 64`;
    let ctx = parser.initial();
    // Two rounds over 20 destinations: the second finds each flow again; the ninth flow moves them to a map.
    for (const round of [0, 1]) {
      for (let dst = 1; dst <= 20; dst++) {
        const { result, ctx: next } = parser.parse(line(dst, round), ctx);
        ctx = next;
        if (result.kind === 'event') acc.add(stream, result.event);
      }
    }
    expect(acc.flows.size).toBe(20);
    for (const flow of acc.flows.values()) expect([...flow.packets.values()].map((p) => p.key)).toEqual(['icmp id 7 seq 0', 'icmp id 7 seq 1']);
  });
});
