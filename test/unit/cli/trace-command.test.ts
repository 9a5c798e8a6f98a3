import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { readTraceFlags, traceAndRender } from '../../../src/cli/commands/trace.js';
import { main } from '../../../src/cli/main.js';
import { FAKE_CLIENT, FAKE_SERVER, FakeCluster } from '../../helpers/fakes.js';

class Sink extends Writable {
  text = '';
  columns = 100;
  constructor(readonly isTTY = false) {
    super();
  }
  // What ora uses of a tty.WriteStream.
  cursorTo(_x: number, cb?: () => void): boolean {
    cb?.();
    return true;
  }
  moveCursor(_dx: number, _dy: number, cb?: () => void): boolean {
    cb?.();
    return true;
  }
  clearLine(_dir: number, cb?: () => void): boolean {
    cb?.();
    return true;
  }
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

const DEFAULTS = { probes: 'tcpdump,monitor,pwru,hubble', traffic: 'icmp', count: '3', duration: '10', timeout: '60', maxPackets: '10', output: 'table' };

describe('trace flags', () => {
  it('defaults: the four default probes, icmp x3, the documented images', () => {
    const f = readTraceFlags('same', 'kube-system/other', DEFAULTS);
    expect(f).toMatchObject({
      src: { name: 'same' },
      dst: { namespace: 'kube-system', name: 'other' },
      probes: ['tcpdump', 'monitor', 'pwru', 'hubble'],
      traffic: { kind: 'icmp' },
      count: 3,
      durationS: 10,
      timeoutS: 60,
      probeImage: 'docker.io/nicolaka/netshoot:v0.13',
      pwruImage: 'docker.io/cilium/pwru:v1.0.9',
    });
  });

  it.each([
    [{ probes: 'tcpdump,tetragon' }, '--probes: unknown probe tetragon: choose from tcpdump, monitor, pwru, iptables, hubble'],
    [{ traffic: 'http:80' }, '--traffic http:80: expected icmp, tcp:PORT, udp:PORT or none'],
    [{ count: '0' }, '--count must be a whole number of at least 1, not "0"'],
    [{ traffic: 'none', duration: '60', timeout: '60' }, '--duration 60 must be shorter than --timeout 60: the probes need time to start and stop'],
    [{ quiet: '0' }, '--quiet must be a whole number of at least 1, not "0"'],
    [{ quiet: '2000' }, '--quiet 2000 must not be longer than --grace 1500 (the default): the grace is the most a trace listens after its traffic; raise it too'],
    [{ quiet: '900', grace: '800' }, '--quiet 900 must not be longer than --grace 800: the grace is the most a trace listens after its traffic; raise it too'],
    [{ grace: '60000', timeout: '60' }, '--grace 60000 ms must be shorter than --timeout 60 s: the probes need time to start and stop'],
    [{ expect: 'reached' }, '--expect reached: expected delivered or dropped'],
  ])('%j is refused: %s', (bad, message) => {
    expect(() => readTraceFlags('a', 'b', { ...DEFAULTS, ...bad })).toThrow(message);
  });

  it('leaves the listening after the traffic to the trace unless --quiet or --grace say otherwise', () => {
    expect(readTraceFlags('a', 'b', DEFAULTS)).not.toHaveProperty('quietMs');
    expect(readTraceFlags('a', 'b', DEFAULTS)).not.toHaveProperty('graceMs');
    expect(readTraceFlags('a', 'b', { ...DEFAULTS, quiet: '1000', grace: '5000' })).toMatchObject({ quietMs: 1000, graceMs: 5000 });
  });

  it('refuses the same pod twice and anything that is not a pod name', () => {
    expect(() => readTraceFlags('default/a', 'default/a', DEFAULTS)).toThrow('SRC and DST are the same pod (default/a): trace two different pods');
    expect(() => readTraceFlags('a;rm', 'b', DEFAULTS)).toThrow(/is not a pod/);
  });

  it('usage errors exit 2 before any cluster is contacted', async () => {
    const out = new Sink();
    const err = new Sink();
    const code = await main(['trace', 'a', 'b', '--traffic', 'bogus', '--kubeconfig', '/nonexistent'], { out, err, env: {} });
    expect(code).toBe(2);
    expect(err.text).toBe('error: --traffic bogus: expected icmp, tcp:PORT, udp:PORT or none\n');
  });
});


let errSink: Sink | undefined;

async function runWith(c: FakeCluster, opts: Record<string, unknown>, signal = new AbortController().signal, tty = false) {
  const out = new Sink();
  const err = new Sink(tty);
  errSink = err;
  // The fake agent has no Hubble: the cases below are about other things (the one about Hubble says so).
  const flags = { ...readTraceFlags('client', 'server', { ...DEFAULTS, probes: 'tcpdump,monitor,pwru', ...opts }), runId: 'cli1', graceMs: 20 };
  const code = await traceAndRender(flags, 'default', { kube: c.kube, exec: c.exec, resolve: c.resolve }, { ...DEFAULTS, color: 'never', ...opts }, { out, err, env: {} }, signal);
  return { code, out: out.text, err: err.text };
}

describe('trace command on a fake cluster', () => {
  it('exit 0 and the report on stdout; nothing on stderr without a terminal', async () => {
    const r = await runWith(new FakeCluster({ pods: [FAKE_CLIENT, FAKE_SERVER], nodes: [{ name: 'n1', internalIp: '192.168.0.1' }] }), { output: 'json' });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.schemaVersion).toBe(1);
    expect(report.inputs).toHaveLength(6);
    expect(r.err).toBe('');
  });

  it('default probes where Hubble is off: one line says so, its input is skipped, the trace is not partial (exit 0)', async () => {
    const r = await runWith(new FakeCluster({ pods: [FAKE_CLIENT, FAKE_SERVER], nodes: [{ name: 'n1', internalIp: '192.168.0.1' }] }), { output: 'json', probes: DEFAULTS.probes });
    expect(r.code).toBe(0);
    expect(r.err).toBe('warning: Hubble is off on n1 (ended before it was ready: sh is not in the image of kube-system/cilium-n1 (cilium-agent)): tracing without it\n');
    type Out = { inputs: { tool: string; status: string }[]; flows: { src: string; dst: string; verdict: string; path: string[] }[] };
    const report = JSON.parse(r.out) as Out;
    expect(report.inputs.filter((i) => i.tool === 'hubble').map((i) => i.status)).toEqual(['skipped: Hubble is off on n1']);
    const without = JSON.parse((await runWith(new FakeCluster({ pods: [FAKE_CLIENT, FAKE_SERVER], nodes: [{ name: 'n1', internalIp: '192.168.0.1' }] }), { output: 'json' })).out) as Out;
    const conclusions = (o: Out) => o.flows.map((f) => [f.src, f.dst, f.verdict, f.path]);
    expect(conclusions(report)).toEqual(conclusions(without));
  });

  it('--save DIR also writes DIR/report.html, the page -o html prints', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trace-save-'));
    try {
      const cluster = () => new FakeCluster({ pods: [FAKE_CLIENT, FAKE_SERVER], nodes: [{ name: 'n1', internalIp: '192.168.0.1' }] });
      const r = await runWith(cluster(), { output: 'json', save: dir });
      expect(r.code).toBe(0);
      const page = readFileSync(join(dir, 'report.html'), 'utf8');
      expect(r.err.split('\n').slice(0, 2)).toEqual([
        `saved the raw outputs and run.json in ${dir}: kubectl datapath analyze ${dir} rebuilds this report`,
        `wrote ${join(dir, 'report.html')}: the report as a page to open in a browser`,
      ]);
      const html = await runWith(cluster(), { output: 'html' });
      // The same page, but for the run's own names and times.
      expect(page.startsWith('<!DOCTYPE html>\n')).toBe(true);
      expect(page.match(/<section class="flow /g)?.length).toBe(JSON.parse(r.out).flows.length);
      expect(html.out.match(/<section class="flow /g)?.length).toBe(JSON.parse(r.out).flows.length);
      expect(existsSync(join(dir, 'wireshark'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--expect: exit 0 when the request has the verdict expected, 6 with one line when not (the report still on stdout)', async () => {
    const cluster = () => new FakeCluster({ pods: [FAKE_CLIENT, FAKE_SERVER], nodes: [{ name: 'n1', internalIp: '192.168.0.1' }] });
    const ok = await runWith(cluster(), { output: 'json', expect: 'delivered' });
    expect([ok.code, ok.err]).toEqual([0, '']);
    const wrong = await runWith(cluster(), { output: 'json', expect: 'dropped' });
    expect(wrong.code).toBe(6);
    expect(JSON.parse(wrong.out).schemaVersion).toBe(1);
    expect(wrong.err).toBe('expected dropped, the trace says delivered (icmp 10.99.0.1 (default/client) -> 10.99.0.2 (default/server): delivered)\n');
  });

  it('exit 3 with the report when a probe failed; the warning line on stderr', async () => {
    const c = new FakeCluster({ pods: [FAKE_CLIENT, FAKE_SERVER], nodes: [{ name: 'n1', internalIp: '192.168.0.1' }] });
    c.kube.forbidPods = 'pods is forbidden: User "dev" cannot create resource "pods" in API group "" in the namespace "default"';
    const r = await runWith(c, {});
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/tcpdump-host-n1-lxcda6f5295b4b7\W.*host:n1\/lxcda6f5295b4b7\W.*skipped/);
    expect(r.err.split('\n').filter((l) => l.startsWith('warning: '))).toHaveLength(1);
  });

  it('Ctrl-C: the partial report is printed and the exit code is 130', async () => {
    const c = new FakeCluster({ pods: [FAKE_CLIENT, FAKE_SERVER], nodes: [{ name: 'n1', internalIp: '192.168.0.1' }] });
    const abort = new AbortController();
    c.exec.onLaunch = (_pod, argv) => {
      if (argv[0] === 'pwru') setTimeout(() => abort.abort(), 20);
    };
    const r = await runWith(c, { output: 'yaml' }, abort.signal);
    expect(r.code).toBe(130);
    expect(r.out).toMatch(/^schemaVersion: 1\n/);
    expect(r.out).toContain('interrupted (Ctrl-C)');
    expect(c.exec.leftRunning()).toEqual([]);
    expect(c.kube.probePods()).toEqual([]);
  });

  it('on a terminal the spinner goes to stderr only; stdout stays the report', async () => {
    const r = await runWith(new FakeCluster({ pods: [FAKE_CLIENT, FAKE_SERVER], nodes: [{ name: 'n1', internalIp: '192.168.0.1' }] }), { output: 'table' }, undefined, true);
    expect(r.code).toBe(0);
    expect(r.out).not.toMatch(/\x1b\[\?25l|ready \d/);
    expect(r.out).toMatch(/pod:default\/client\/eth0/);
    // ora animates on a terminal, but prints its steps as plain lines when CI is set (as in .ci/run).
    if (process.env.CI) expect(errSink?.text).toMatch(/^- starting\n/m);
    else expect(errSink?.text).toMatch(/\x1b\[\?25l.*(starting|resolving|ready|collecting)/);
  });
});
