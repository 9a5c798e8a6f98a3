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
