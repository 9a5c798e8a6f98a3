import { spawn } from 'node:child_process';
import { chmodSync, closeSync, constants, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { decodePcap } from '../../src/core/parse/pcap.js';
import { startFakeApi, type FakeApi, type FakeKind } from '../helpers/fake-api.js';
import { buildPcapng, type BuiltPacket } from '../helpers/pcap-builder.js';
import { runMain } from '../helpers/run-main.js';

/**
 * Issue 12, "bad input, everywhere": every error a user can cause is one line on stderr, no stack
 * trace, the exit code the README's table documents, and nothing on stdout that would break a
 * `-o json` consumer (empty, or one whole JSON document). One row per case; the rows run the real
 * `main()` in this process (the fake API servers answer from the same event loop), and the few
 * that need a real process (signals, a closed or full stdout) spawn the CLI.
 */

const run = (args: string[], env: NodeJS.ProcessEnv = {}) => runMain(args, { HOME: dir, ...env });

let dir: string;
let api: FakeApi;
const SEED = 'test/fixtures/seed';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bad-input-'));
  api = await startFakeApi();
  const f = (name: string, content: string | Uint8Array) => writeFileSync(join(dir, name), content);
  f('empty.txt', '');
  f('binary.bin', Uint8Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) % 256));
  copyFileSync(join(SEED, 'tcpdump-same-eth0.txt'), join(dir, 'same-eth0.txt'));
  const pcap = readFileSync('test/fixtures/pcap/ping-arp.pcap');
  f('ping.pcap', pcap);
  f('cut.pcap', pcap.subarray(0, pcap.length - 7));
  f('run.json', '{"kubectlDatapathRun": {broken');
  mkdirSync(join(dir, 'nothing-usable'));
  f('nothing-usable/.hidden', 'x');
  mkdirSync(join(dir, 'save'));
  copyFileSync(join(SEED, 'tcpdump-same-eth0.txt'), join(dir, 'save/same-eth0.txt'));
  f('save/run.json', '{"kubectlDatapathRun": {broken');
  symlinkSync('loop-b', join(dir, 'loop-a'));
  symlinkSync('loop-a', join(dir, 'loop-b'));
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  f('unreadable.txt', 'secret\n');
  chmodSync(join(dir, 'unreadable.txt'), 0);
  f('garbage-kubeconfig', 'clusters: [:::\n');
  f('deep.json', `${'{"a":'.repeat(1_000_000)}1${'}'.repeat(1_000_000)}`);
  // pcapng timestamps at the edge: if_tsresol 2^0 with a high word of 0xffffffff, a huge if_tsoffset.
  const frames = decodePcap(pcap).records.flatMap((r) => (r.kind === 'event' ? [r.event] : []));
  const packet = (ns: bigint): BuiltPacket => ({ frame: frames[0].frame!, wireLength: frames[0].packet.length!, ns });
  f('edge-times.pcapng', buildPcapng([
    {
      little: true,
      interfaces: [{ linkType: 1, name: 'eth0', tsresol: 0x80 }, { linkType: 1, name: 'lxc1', tsoffsetSeconds: 2n ** 62n }],
      blocks: [
        { kind: 'epb', iface: 0, packet: packet(((0xffffffffn << 32n) + 5n) * 1_000_000_000n) },
        { kind: 'epb', iface: 1, packet: packet(2n ** 62n * 1_000_000_000n + 5n) },
      ],
    },
  ]));
}, 60_000);

afterAll(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

type Stdout = 'empty' | 'json';
interface Row {
  name: string;
  args: () => string[];
  code: number;
  /** The one stderr line (or each line, for several inputs). */
  err: RegExp;
  stdout: Stdout;
  env?: () => NodeJS.ProcessEnv;
}

const p = (name: string) => join(dir, name);
const kube = (kind: FakeKind) => ['--kubeconfig', api.kubeconfig(kind), '--request-timeout', '2s'];

const ROWS: Row[] = [
  // Inputs
  { name: 'a missing file', args: () => ['analyze', '-o', 'json', p('missing.txt')], code: 1, err: /^error: .*missing\.txt: failed: .*missing\.txt does not exist: check the path$/, stdout: 'json' },
  { name: 'an empty file', args: () => ['analyze', '-o', 'json', p('empty.txt')], code: 1, err: /^error: .*empty\.txt: empty: .*has no content$/, stdout: 'json' },
  { name: 'a binary file', args: () => ['analyze', '-o', 'json', p('binary.bin')], code: 1, err: /^error: .*binary\.bin: unknown-format: .*binary but not a pcap or pcapng file$/, stdout: 'json' },
  { name: 'a FIFO without a writer (must not hang)', args: () => ['analyze', '-o', 'json', p('fifo')], code: 1, err: /^error: .*fifo: empty: .*has no content$/, stdout: 'json' },
  { name: 'a symlink loop', args: () => ['analyze', '-o', 'json', p('loop-a')], code: 1, err: /^error: .*loop-a: failed: .*is a loop of symbolic links/, stdout: 'json' },
  { name: 'a directory without usable files', args: () => ['analyze', '-o', 'json', p('nothing-usable')], code: 1, err: /^error: .*nothing-usable: failed: .*is a directory with no files in it/, stdout: 'json' },
  { name: 'a truncated pcap with usable packets (partial, exit 3)', args: () => ['analyze', '-o', 'json', p('cut.pcap')], code: 3, err: /^warning: .*cut\.pcap: partial: truncated record at byte \d+/, stdout: 'json' },
  { name: 'a broken run.json alone', args: () => ['analyze', '-o', 'json', p('run.json')], code: 1, err: /^error: .*run\.json: failed: run metadata is not JSON/, stdout: 'json' },
  { name: 'a save directory with a broken run.json', args: () => ['analyze', '-o', 'json', p('save')], code: 3, err: /^warning: .*run\.json: failed: run metadata is not JSON/, stdout: 'json' },
  { name: 'JSON nested a million deep', args: () => ['analyze', '-o', 'json', p('deep.json')], code: 1, err: /^error: .*deep\.json: /, stdout: 'json' },
  { name: 'pcapng timestamps at the edge', args: () => ['analyze', '-o', 'json', p('edge-times.pcapng')], code: 0, err: /^$/, stdout: 'json' },
  // Flags and values
  { name: 'an unknown -o', args: () => ['analyze', '-o', 'xml', p('ping.pcap')], code: 2, err: /^error: option '-o, --output <format>' argument 'xml' is invalid\..* \(run kubectl datapath --help for usage\)$/, stdout: 'empty' },
  { name: 'a bad --point', args: () => ['analyze', '--point', 'lxc123=x', p('ping.pcap')], code: 2, err: /^error: --point "lxc123" is not a point id/, stdout: 'empty' },
  { name: 'a negative --max-packets', args: () => ['analyze', '--max-packets', '-3', p('ping.pcap')], code: 2, err: /^error: --max-packets must be a whole number of at least 1, not "-3"$/, stdout: 'empty' },
  { name: '--timeout 0', args: () => ['trace', 'a', 'b', '--timeout', '0'], code: 2, err: /^error: --timeout must be a whole number of at least 1, not "0"$/, stdout: 'empty' },
  { name: '--timeout 1e9', args: () => ['trace', 'a', 'b', '--timeout', '1e9'], code: 2, err: /^error: --timeout must be at most 86400, not "1e9"$/, stdout: 'empty' },
  { name: 'a negative --count', args: () => ['trace', 'a', 'b', '--count', '-1'], code: 2, err: /^error: --count must be a whole number of at least 1, not "-1"$/, stdout: 'empty' },
  { name: 'a bad --request-timeout', args: () => ['endpoints', 'a', '--request-timeout', 'soon'], code: 2, err: /^error: --request-timeout "soon": expected a duration such as 30s/, stdout: 'empty' },
  { name: 'an unknown flag', args: () => ['analyze', '--nope', 'x'], code: 2, err: /^error: unknown option '--nope' .*\(run kubectl datapath --help for usage\)$/, stdout: 'empty' },
  // Names
  { name: 'an empty pod name', args: () => ['endpoints', ''], code: 2, err: /^error: a pod name is empty: expected NAME or NAMESPACE\/NAME$/, stdout: 'empty' },
  { name: 'a pod name with a shell character', args: () => ['trace', 'a;rm', 'b'], code: 2, err: /^error: "a;rm" is not a pod/, stdout: 'empty' },
  { name: 'a pod name with a terminal escape', args: () => ['endpoints', 'x\u001b]0;owned\u0007'], code: 2, err: /^error: "x\\x1b]0;owned\\x07" is not a pod/, stdout: 'empty' },
  { name: '-n that is not a DNS label', args: () => ['endpoints', '-n', 'Bad_NS', 'a'], code: 2, err: /^error: -n\/--namespace "Bad_NS" is not a namespace/, stdout: 'empty' },
  { name: '--probe-namespace with a control character', args: () => ['trace', 'a', 'b', '--probe-namespace', 'x\u001b[31m'], code: 2, err: /^error: --probe-namespace "x\\x1b\[31m" is not a namespace/, stdout: 'empty' },
  { name: '--agent-namespace with a slash', args: () => ['doctor', '--agent-namespace', 'kube/system'], code: 2, err: /^error: --agent-namespace "kube\/system" is not a namespace/, stdout: 'empty' },
  // Output
  { name: '--pcapng /dev/stdout with -o json', args: () => ['analyze', '-o', 'json', '--pcapng', '/dev/stdout', p('ping.pcap')], code: 2, err: /^error: --pcapng "\/dev\/stdout" is the standard output/, stdout: 'empty' },
  { name: '--pcapng onto its own input', args: () => ['analyze', '--pcapng', p('ping.pcap'), p('ping.pcap')], code: 2, err: /^error: --pcapng ".*ping\.pcap" is one of the inputs/, stdout: 'empty' },
  { name: '--pcapng onto an existing file without --force', args: () => ['analyze', '--pcapng', p('same-eth0.txt'), p('ping.pcap')], code: 2, err: /^error: --pcapng ".*same-eth0\.txt" exists: give another path, or add --force/, stdout: 'empty' },
  // Kubeconfig and API server
  { name: 'a missing kubeconfig', args: () => ['endpoints', 'a', '--kubeconfig', p('no-kubeconfig')], code: 2, err: /^error: --kubeconfig .*no-kubeconfig: no such file$/, stdout: 'empty' },
  { name: 'a garbage kubeconfig', args: () => ['endpoints', 'a', '--kubeconfig', p('garbage-kubeconfig')], code: 1, err: /^error: kubeconfig .*garbage-kubeconfig is not valid YAML/, stdout: 'empty' },
  { name: 'no kubeconfig at all', args: () => ['cleanup'], env: () => ({ KUBECONFIG: '' }), code: 1, err: /^error: no kubeconfig found/, stdout: 'empty' },
  { name: 'an unreachable API server', args: () => ['endpoints', 'a', ...kube('unreachable')], code: 1, err: /^error: the API server at https:\/\/127\.0\.0\.1:1 is unreachable \(connection refused, ECONNREFUSED\)/, stdout: 'empty' },
  { name: 'a bogus or expired token (401)', args: () => ['endpoints', 'a', ...kube('unauthorized')], code: 1, err: /^error: .*(401|[Uu]nauthori[sz]ed)/, stdout: 'empty' },
  { name: 'an API answering 200 with an HTML page', args: () => ['endpoints', 'a', ...kube('html')], code: 1, err: /^error: the server at https:\/\/127\.0\.0\.1:\d+ answered with something that is not a Kubernetes API object/, stdout: 'empty' },
  { name: 'an API answering 200 with {} to cleanup', args: () => ['cleanup', ...kube('empty-json')], code: 1, err: /^error: the server at .* answered with something that is not a Kubernetes API object/, stdout: 'empty' },
  { name: 'an API server that accepts and never answers: endpoints', args: () => ['endpoints', 'a', ...kube('silent-tcp')], code: 1, err: /^error: the API server https:\/\/127\.0\.0\.1:\d+ did not answer within 2s \(--request-timeout\)/, stdout: 'empty' },
  { name: 'an API server that completes TLS and never answers: cleanup', args: () => ['cleanup', ...kube('silent-tls')], code: 1, err: /^error: the API server https:\/\/127\.0\.0\.1:\d+ did not answer within 2s \(--request-timeout\)/, stdout: 'empty' },
  { name: 'an API server that never answers: trace', args: () => ['trace', 'a', 'b', '--timeout', '5', ...kube('silent-tls')], code: 1, err: /^error: the API server https:\/\/127\.0\.0\.1:\d+ did not answer within 2s/, stdout: 'empty' },
  { name: 'an API server that never answers: version (plugin version still printed)', args: () => ['version', ...kube('silent-tcp')], code: 0, err: /^cilium version unknown: the API server https:\/\/127\.0\.0\.1:\d+ did not answer within 2s$/, stdout: 'empty' },
];

describe('bad input, everywhere: one line, a documented exit code, stdout fit for -o json', () => {
  it.each(ROWS.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    const started = Date.now();
    const r = await run(row.args(), row.env?.());
    const lines = r.err.split('\n').filter((l) => l !== '');
    expect({ code: r.code, err: r.err }).toEqual({ code: row.code, err: expect.stringMatching(row.err.source === '^$' ? /^$/ : /\n$/) });
    for (const line of lines) expect(line).toMatch(row.err);
    expect(r.err).not.toMatch(/\n\s+at |this is a bug/);
    if (row.stdout === 'empty' && !row.args().includes('version')) expect(r.out).toBe('');
    if (row.stdout === 'json') expect(() => JSON.parse(r.out)).not.toThrow();
    // Bounded: the slowest rows wait for a 2 s request timeout or the FIFO's 2 s writer wait.
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 30_000);

  it('pcapng timestamps at the edge are kept as packets without a time', async () => {
    const r = await run(['analyze', '-o', 'json', p('edge-times.pcapng')]);
    const report = JSON.parse(r.out);
    expect(report.inputs.map((i: { understood: number; status: string }) => [i.understood, i.status])).toEqual([[2, 'ok']]);
  });

  it('--pcapng with --force replaces a file through a temporary file, and leaves no temporary behind', async () => {
    const target = p('export.pcapng');
    writeFileSync(target, 'old');
    const r = await run(['analyze', '--force', '--pcapng', target, p('ping.pcap')]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^wrote .*export\.pcapng: 6 packets on 1 interfaces/);
    expect(decodePcap(readFileSync(target)).end).toMatchObject({ format: 'pcapng', packets: 6 });
    expect(execFileSync('ls', ['-a', dir], { encoding: 'utf8' })).not.toMatch(/\.tmp/);
  });
});

/** The CLI as a user runs it, for what needs a real process: signals, a closed or full stdout. */
function spawnCli(args: string[], opts: { stdin?: 'pipe' | 'ignore'; stdout?: number | 'pipe'; shell?: string } = {}) {
  const child = opts.shell
    ? spawn('bash', ['-c', opts.shell], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'src/cli/main.ts', ...args], { stdio: [opts.stdin ?? 'ignore', opts.stdout ?? 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on('close', (code) => resolve({ code, out, err })));
  return { child, done };
}

const CLI = `${process.execPath} node_modules/tsx/dist/cli.mjs src/cli/main.ts`;

describe('output safety and interrupts, in a real process', () => {
  it('piping into head ends quietly (EPIPE is no error)', async () => {
    const big = p('big.txt');
    writeFileSync(big, readFileSync(join(SEED, 'tcpdump-same-eth0.txt'), 'utf8').repeat(200));
    const r = await spawnCli([], { shell: `${CLI} analyze -o json ${big} | head -c 10 >/dev/null; echo "rc=\${PIPESTATUS[0]}" >&2` }).done;
    expect(r.err).toBe('rc=0\n');
  }, 60_000);

  it('a full disk gives one line and exit 1', async () => {
    const r = await spawnCli([], { shell: `${CLI} analyze -o json ${p('ping.pcap')} > /dev/full` }).done;
    expect({ code: r.code, err: r.err }).toEqual({ code: 1, err: 'error: cannot write the output: no space left on device (ENOSPC)\n' });
  }, 60_000);

  it('analyze - reads the standard input as a stream', async () => {
    const run = spawnCli(['analyze', '-o', 'json', '-'], { stdin: 'pipe' });
    const text = readFileSync(join(SEED, 'tcpdump-same-eth0.txt'));
    // In two parts, the second after a pause: read as it comes, not refused as ESPIPE.
    run.child.stdin!.write(text.subarray(0, 300));
    await new Promise((r) => setTimeout(r, 500));
    run.child.stdin!.end(text.subarray(300));
    const r = await run.done;
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    expect(JSON.parse(r.out).inputs.map((i: { name: string; tool: string; understood: number }) => [i.name, i.tool, i.understood])).toEqual([['-', 'tcpdump', 11]]);
  }, 60_000);

  it('SIGINT ends an analyze reading a pipe that stays open, with 130 and the report of what it read (-o json)', async () => {
    const fifo = p('live-fifo');
    execFileSync('mkfifo', [fifo]);
    const run = spawnCli(['analyze', '-o', 'json', fifo]);
    // A FIFO opens for writing only once its reader has it open: then analyze is reading.
    let fd = -1;
    await waitFor(() => {
      try {
        fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
        return true;
      } catch {
        return false;
      }
    }, 45_000);
    writeSync(fd, readFileSync(join(SEED, 'tcpdump-same-eth0.txt')));
    await new Promise((r) => setTimeout(r, 1000));
    const at = Date.now();
    run.child.kill('SIGINT');
    const r = await run.done;
    closeSync(fd);
    expect(Date.now() - at).toBeLessThan(5000);
    expect({ code: r.code, err: r.err }).toEqual({ code: 130, err: 'interrupted: analyze stopped before reading every input\n' });
    const report = JSON.parse(r.out);
    expect(report.inputs.map((i: { tool: string; understood: number }) => [i.tool, i.understood])).toEqual([['tcpdump', 11]]);
    expect(report.warnings).toContain('interrupted: the report covers only what was read before Ctrl-C or SIGTERM');
  }, 60_000);

  it('SIGTERM ends an endpoints call to an API server that never answers, at once, with 130', async () => {
    const before = api.connections('silent-tls');
    const run = spawnCli(['endpoints', 'a', '--kubeconfig', api.kubeconfig('silent-tls'), '--request-timeout', '0']);
    await waitFor(() => api.connections('silent-tls') > before, 45_000);
    const at = Date.now();
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(Date.now() - at).toBeLessThan(5000);
    expect({ code: r.code, err: r.err }).toEqual({ code: 130, err: 'error: interrupted while waiting for the API server\n' });
  }, 60_000);
});

async function waitFor(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
}
