import { analyze, MAX_LINE_CHARS } from '../src/app/analyze.js';
import { memoryCatalog } from '../src/app/memory-inputs.js';

/**
 * Issue 12: one line of 1 MB must take about the time of 1 MB of ordinary lines of the same tool.
 * For each line format, the hostile shapes that once recursed per token or scanned quadratically
 * (nested tunnel headers, joined monitor records, endless key=value tails, echoed ^C, trailing
 * CRs) are analysed as one line just under the limit, against the same bytes of real lines.
 * Measured here and not in a unit test: on a loaded 2-CPU machine only a ratio measured in one
 * quiet run says something; a unit test would either flake or bound nothing.
 */
const ORDINARY: Record<string, string> = {
  tcpdump: '21:30:13.521574 70:79:90:59:e6:66 > 24:8a:07:55:44:6c, ethertype 802.1Q (0x8100), length 216: vlan 32, p 0, ethertype IPv4, 10.53.32.18.54198 > 10.53.32.14.4789: VXLAN, flags [I] (0x08), vni 72',
  monitor: 'CPU 02: MARK 0x0 FROM 2836 DEBUG: Conntrack lookup 1/2: src=10.0.1.135:22016 dst=10.0.1.180:0',
  pwru: '0xffff9afcb4519b00      4      [<empty>]          ip_local_out netns=4026531992 mark=0x0 ifindex=0 proto=0 mtu=0 len=84',
  iptables: 'Feb 13 15:33:24 stop kernel: [873912.017189] TRACE: raw:PREROUTING:policy:2 IN=p1p1.172 OUT= MAC=90:e2:ba:d6:00:1c:4c:5e:0c:14:17:88:08:00 SRC=192.0.2.154 DST=192.0.2.38 LEN=60 TOS=0x00 PREC=0x00 TTL=127 ID=30417 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=571',
};

const HOSTILE: Record<string, [string, string, string][]> = {
  tcpdump: [
    ['nested VXLAN headers', ORDINARY.tcpdump, ' 10.53.32.18.54198 > 10.53.32.14.4789: VXLAN, flags [I] (0x08), vni 72'],
    ['nested IP-in-IP', '21:30:13.521574 IP 1.2.3.4 > 1.2.3.5: ', 'IP 1.2.3.4 > 1.2.3.5: '],
    ['echoed ^C', '', '^C'],
    ['trailing CRs', ORDINARY.tcpdump, '\r'],
  ],
  monitor: [
    ['joined records', '', `${ORDINARY.monitor} `],
    ['CPU prefixes', `${ORDINARY.monitor} `, 'CPU 1: MARK 0x '],
    ['layer braces', `${ORDINARY.monitor} `, '} IPv4 {'],
  ],
  pwru: [['key=value tail', ORDINARY.pwru, ' a=b']],
  iptables: [['key=value tail', ORDINARY.iptables, ' A=B']],
};

async function timeAnalyze(text: string): Promise<number> {
  let best = Infinity;
  // The first run only warms the JIT up for this shape.
  for (let run = 0; run < 4; run++) {
    const file = { name: 'input.txt', chunks: [Buffer.from(text)] };
    const start = process.hrtime.bigint();
    await analyze({ paths: [file.name], points: [], endpointFiles: [], node: 'bench', maxPackets: 10 }, memoryCatalog([file]));
    if (run > 0) best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6);
  }
  return best;
}

export interface LongLineResult {
  format: string;
  shape: string;
  longMs: number;
  /** The same shape at half the length: linear time doubles, quadratic quadruples. */
  halfMs: number;
  ordinaryMs: number;
}

/** measureLongLines: per format and hostile shape, one line of about 1 MB against 1 MB of ordinary lines. */
export async function measureLongLines(): Promise<LongLineResult[]> {
  const size = MAX_LINE_CHARS - 1024;
  const out: LongLineResult[] = [];
  for (const [format, shapes] of Object.entries(HOSTILE)) {
    const ordinaryText = `${ORDINARY[format]}\n`.repeat(Math.ceil(size / (ORDINARY[format].length + 1)));
    const ordinaryMs = await timeAnalyze(`${ORDINARY[format]}\n${ordinaryText}`);
    for (const [shape, start, unit] of shapes) {
      const line = (chars: number) => start + unit.repeat(Math.floor((chars - start.length) / unit.length));
      // The ordinary first line decides the format; the long line follows it.
      const longMs = await timeAnalyze(`${ORDINARY[format]}\n${line(size)}\n`);
      const halfMs = await timeAnalyze(`${ORDINARY[format]}\n${line(size / 2)}\n`);
      out.push({ format, shape, longMs, halfMs, ordinaryMs });
    }
  }
  return out;
}

/**
 * The target: one long line within 10x of the same bytes of ordinary lines. A quadratic shape
 * misses it by orders of magnitude (100 kB took 13-27 s, so 1 MB would take tens of minutes);
 * the factor leaves room for noise and for constant factors: joined monitor records are cut and
 * parsed one by one, and a 1 MB line of short records is many more records than 1 MB of lines.
 * The time of the same shape at 0.5 MB is printed beside it (linear doubles, quadratic
 * quadruples), for reading only: at a few ms, on shared CPUs, that ratio is mostly noise.
 */
export const ORDINARY_TARGET = 10;

export function printLongLines(results: LongLineResult[]): boolean {
  console.log('one line of ~1 MB against ~1 MB of ordinary lines of the same tool (analyze, best of 3 after a warm-up)');
  let ok = true;
  for (const r of results) {
    const ordinary = r.longMs / Math.max(r.ordinaryMs, 1);
    const pass = ordinary <= ORDINARY_TARGET;
    ok &&= pass;
    console.log(
      `  ${r.format.padEnd(9)} ${r.shape.padEnd(21)} ${r.longMs.toFixed(0).padStart(5)} ms (0.5 MB: ${r.halfMs.toFixed(0)} ms): x${ordinary.toFixed(2)} of ${r.ordinaryMs.toFixed(0)} ms for ordinary lines (target <= ${ORDINARY_TARGET}) ${pass ? 'OK' : 'MISSED'}`,
    );
  }
  return ok;
}
