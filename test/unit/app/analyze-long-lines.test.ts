import { analyze } from '../../../src/app/analyze.js';
import { MAX_LINE_CHARS } from '../../../src/app/analyze.js';
import { LineSplitter } from '../../../src/app/line-splitter.js';
import { memoryCatalog } from '../../../src/app/memory-inputs.js';

/**
 * Issue 12: a single line over MAX_LINE_CHARS is counted as not understood without being parsed,
 * and memory for it stays bounded however it arrives (one chunk, or many chunks of one line).
 */
const PING = '09:00:16.016126 IP 10.0.1.135 > 10.0.1.180: ICMP echo request, id 20480, seq 0, length 64';
const PONG = '09:00:16.016160 IP 10.0.1.180 > 10.0.1.135: ICMP echo reply, id 20480, seq 0, length 64';

function chunked(text: string, size: number): Uint8Array[] {
  const bytes = new TextEncoder().encode(text);
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

async function analyzeText(name: string, text: string, chunkSize: number) {
  const report = await analyze({ paths: [name], points: [], endpointFiles: [], maxPackets: 10 }, memoryCatalog([{ name, chunks: chunked(text, chunkSize) }]));
  return report.inputs[0];
}

describe('a line longer than the limit', () => {
  const long = `${PING} ${'x'.repeat(MAX_LINE_CHARS)}`;

  it.each([
    ['in one chunk', 8 * MAX_LINE_CHARS],
    ['carried over many chunks', 64 * 1024],
  ])('is counted as not understood, the lines around it still read (%s)', async (_how, size) => {
    const input = await analyzeText('long.txt', `${PING}\n${long}\n${PONG}\n`, size);
    expect({ tool: input.tool, lines: input.lines, understood: input.understood, notUnderstood: input.notUnderstood, status: input.status }).toEqual({
      tool: 'tcpdump', lines: 3, understood: 2, notUnderstood: 1, status: 'ok',
    });
    expect(input.notUnderstoodSamples).toEqual([{ line: 2, text: `${long.slice(0, 200)}...`, reason: `longer than ${MAX_LINE_CHARS} characters: not parsed` }]);
  });

  it('a line just at the limit is still parsed', async () => {
    const atLimit = `${PING}, ${'x'.repeat(MAX_LINE_CHARS - PING.length - 2)}`;
    expect(atLimit.length).toBe(MAX_LINE_CHARS);
    const input = await analyzeText('limit.txt', `${atLimit}\n${PONG}\n`, 64 * 1024);
    expect(input.notUnderstoodSamples?.[0]?.reason ?? '').not.toMatch(/longer than/);
  });

  it('a first line longer than the 64 kB head is still detected by its start', async () => {
    const input = await analyzeText('first.txt', `${PING}${', x'.repeat(40_000)}\n${PONG}\n`, 64 * 1024);
    expect(input.tool).toBe('tcpdump');
  });
});

describe('LineSplitter with a line limit', () => {
  it('keeps at most limit + 1 characters of a line carried across chunks, and goes on after it', () => {
    const splitter = new LineSplitter(10);
    const lines: string[] = [];
    const push = (s: string) => splitter.push(new TextEncoder().encode(s), (l) => lines.push(l));
    push('short\nabcdefgh');
    for (let i = 0; i < 1000; i++) push('ijklmnopqrstuvwxyz');
    push('end\r\nnext ');
    push('line 节 of UTF-8 ');
    for (let i = 0; i < 100; i++) push('节节节节节');
    push('\nlast');
    splitter.end((l) => lines.push(l));
    expect(lines).toEqual(['short', 'abcdefghijk', 'next line 节', 'last']);
  });
});
