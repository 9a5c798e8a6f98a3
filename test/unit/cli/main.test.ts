import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../../../src/cli/main.js';

class Sink extends Writable {
  text = '';
  isTTY: boolean;
  columns = 120;
  constructor(tty = false) {
    super();
    this.isTTY = tty;
  }
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

async function run(args: string[], opts: { tty?: boolean; env?: NodeJS.ProcessEnv } = {}) {
  const out = new Sink(opts.tty);
  const err = new Sink(opts.tty);
  const code = await main(args, { out, err, env: opts.env ?? {} });
  return { code, out: out.text, err: err.text };
}

const SEED = 'test/fixtures/seed';
const seedFiles = ['tcpdump-same-eth0.txt', 'tcpdump-cni-eth0.txt'].map((f) => join(SEED, f));

describe('kubectl datapath CLI', () => {
  it('prints its version', async () => {
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^\d+\.\d+\.\d+\n$/);
    const v = await run(['version', '--client']);
    expect(v.out).toMatch(/^kubectl-datapath \d+\.\d+\.\d+\n$/);
  });

  it('gives usage errors exit code 2 with one line that says what to do', async () => {
    const r = await run(['analyze']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/missing required argument/);
    const bad = await run(['analyze', '-o', 'xml', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/xml.*invalid|Allowed choices/i);
    const point = await run(['analyze', '--point', 'nonsense', seedFiles[0]]);
    expect(point.code).toBe(2);
    expect(point.err).toBe('error: --point nonsense: expected POINT=FILE, e.g. --point pod:default/same/eth0=same-eth0.txt\n');
    const n = await run(['analyze', '--max-packets', '0', seedFiles[0]]);
    expect(n.err).toBe('error: --max-packets must be a whole number of at least 1, not "0"\n');
  });

  it('analyzes files: data on stdout, exit 0 when every input worked', async () => {
    const r = await run(['analyze', '-o', 'json', ...seedFiles]);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const report = JSON.parse(r.out);
    expect(report.schemaVersion).toBe(1);
    expect(report.flows.length).toBeGreaterThan(0);
  });

  it('still prints a json report when an input failed, and exits 3 (partial)', async () => {
    const r = await run(['analyze', '-o', 'json', seedFiles[0], '/nonexistent/x.txt']);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.out).inputs.map((i: { status: string }) => i.status.split(':')[0])).toEqual(['failed', 'ok']);
    expect(r.err).toBe('warning: /nonexistent/x.txt: failed: /nonexistent/x.txt does not exist: check the path\n');
  });

  it('exits 1 when no input could be used', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    try {
      writeFileSync(join(dir, 'a.txt'), 'nothing to see\n');
      const r = await run(['analyze', join(dir, 'a.txt')]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/^error: .*a\.txt: unknown-format: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('colours the table only on a TTY, and never with NO_COLOR', async () => {
    const plain = await run(['analyze', ...seedFiles]);
    expect(plain.out).not.toContain('\x1b[');
    const tty = await run(['analyze', ...seedFiles], { tty: true });
    expect(tty.out).toContain('\x1b[');
    const noColor = await run(['analyze', ...seedFiles], { tty: true, env: { NO_COLOR: '1' } });
    expect(noColor.out).not.toContain('\x1b[');
    const forced = await run(['analyze', '--color', 'always', ...seedFiles]);
    expect(forced.out).toContain('\x1b[');
  });

  it('shows no stack trace without --debug', async () => {
    const r = await run(['analyze', '--point', 'x', 'y']);
    expect(r.err).not.toMatch(/\n\s+at /);
    const d = await run(['analyze', '--point', 'x', 'y', '--debug']);
    expect(d.err).toMatch(/\n\s+at /);
  });
});
