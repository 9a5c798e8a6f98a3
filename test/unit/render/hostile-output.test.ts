import { layoutColumns } from '../../../src/render/columns.js';

/**
 * Issue 12: cli-table3 lays a cell out in time cubic in its lines (an 8 kB tcpdump line as a table
 * took 346 s here). layoutColumns hands it at most a few lines per cell and prints the rest under
 * the row, in the same column: every line is kept, in order, aligned. A table library given the
 * whole 2,000-line cell again would not finish within the test's timeout.
 */
describe('layoutColumns with a cell of many lines', () => {
  it('keeps every line of a 2,000-line cell, in order, in its column, before the lines below the row', () => {
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${i} ${'x'.repeat(40)}`);
    const out = layoutColumns(
      [
        { cells: ['+1µs', 'pod:default/same/eth0', 'tcpdump', lines.join('\n')], below: ['      facts: a=b'] },
        { cells: ['+4µs', 'host:bpf1/lxc1', '\x1b[2mmonitor\x1b[0m', 'short'] },
      ],
      { indent: 4, gap: 2, minWidths: [6, 20, 8, 30] },
    );
    const column = 4 + 6 + 2 + 21 + 2 + 8 + 2;
    expect(out[0]).toBe(`    +1µs    pod:default/same/eth0  tcpdump   ${lines[0]}`);
    expect(out.slice(1, 2000)).toEqual(lines.slice(1).map((l) => ' '.repeat(column) + l));
    expect(out.slice(2000)).toEqual(['      facts: a=b', '    +4µs    host:bpf1/lxc1         \x1b[2mmonitor\x1b[0m   short']);
  });
});

describe('-o json and -o yaml with C1, DEL and bidi controls', () => {
  it('escape them (JSON.stringify and YAML escape only C0), and read back as the same data', async () => {
    const { renderers } = await import('../../../src/render/index.js');
    const { parse } = await import('yaml');
    const nasty = 'x\u202ey\u009bz\u007fw\u001b[31m\u2066';
    const report = { schemaVersion: 1, inputs: [{ name: nasty, tool: 'tcpdump', point: '', node: '', lines: 0, understood: 0, notUnderstood: 0, status: 'ok' }], endpoints: [], flows: [], warnings: [nasty, 'plain'] };
    const json = renderers.json(report as never, { color: false });
    const yaml = renderers.yaml(report as never, { color: false });
    for (const out of [json, yaml]) expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/);
    expect(JSON.parse(json).warnings).toEqual([nasty, 'plain']);
    expect(parse(yaml).warnings).toEqual([nasty, 'plain']);
    expect(parse(yaml).inputs[0].name).toBe(nasty);
    expect(yaml).toContain('  - plain\n');
  });
});
