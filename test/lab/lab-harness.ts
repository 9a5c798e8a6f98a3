/**
 * What the kernel-side lab tests share: a lab of their own (own directory, own namespace prefix,
 * so test files run in parallel and never touch `npm run lab`'s lab), real tcpdump captures that
 * start before the traffic, ping, and the emulated CLIs run the way the API server's exec runs
 * them (inside the node's netns, LAB_STATE and LAB_NODE set).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { emulatedBundle, type EmulatedScript } from './emulated/bundle.js';
import { labDown, labUp, type UpOptions, type UpResult } from './kernel/lab.js';
import { inNetns } from './kernel/run.js';
import type { LabPod, LabState } from './state.js';

export interface TestLab {
  state: LabState;
  dir: string;
  instance: string;
  up: UpResult;
  pod(name: string): LabPod;
  nodeNetns(name: string): string;
}

/** Brings up a lab of this test file's own (no API server). */
export async function startLab(opts: Omit<UpOptions, 'dir' | 'instance' | 'api'>): Promise<TestLab> {
  // up refuses an existing lab directory, so the lab lives in a fresh one inside a temp dir.
  const dir = join(mkdtempSync(join(tmpdir(), 'dplab-test-')), 'lab');
  const instance = `t${randomBytes(3).toString('hex')}`;
  const up = await labUp({ ...opts, dir, instance, api: false });
  const state = up.state;
  return {
    state,
    dir,
    instance,
    up,
    pod: (name) => {
      const p = state.pods.find((x) => x.name === name);
      if (!p) throw new Error(`no pod ${name}`);
      return p;
    },
    nodeNetns: (name) => {
      const n = state.nodes.find((x) => x.name === name);
      if (!n) throw new Error(`no node ${name}`);
      return n.netns;
    },
  };
}

/** Removes a test lab (safe to call when startLab failed half-way). */
export async function stopLab(lab: TestLab | undefined): Promise<void> {
  if (!lab) return;
  await labDown({ dir: lab.dir, instance: lab.instance });
  rmSync(dirname(lab.dir), { recursive: true, force: true });
}

/**
 * Gives a describe block its own lab: up before its tests, down after them (also when a test
 * failed). Returns the lab for use inside the tests.
 */
export function useLab(opts: Omit<UpOptions, 'dir' | 'instance' | 'api'>, label: string): () => TestLab {
  let lab: TestLab | undefined;
  beforeAll(async () => {
    lab = await startLab(opts);
    process.stderr.write(`${label} lab up in ${lab.up.timings.total} s\n`);
  }, 60000);
  afterAll(async () => {
    await stopLab(lab);
  }, 30000);
  return () => {
    if (!lab) throw new Error('the lab did not come up');
    return lab;
  };
}

/** ping from a netns; returns the ping output (throws when no reply came back). */
export function ping(netns: string, ip: string, count = 1, extra: string[] = []): string {
  const r = spawnSync('ip', ['netns', 'exec', netns, 'ping', '-n', '-c', String(count), '-i', '0.2', '-W', '1', ...extra, ip], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ping ${ip} from ${netns} failed: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** A running process whose output is collected; `ready` resolves when `readyText` appears. */
export interface Running {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  ready: Promise<void>;
  /** Stops it with SIGINT (then SIGKILL) and resolves when it exited. */
  stop(): Promise<void>;
}

function run(argv: string[], env: NodeJS.ProcessEnv, readyText: string | undefined, readyOn: 'stdout' | 'stderr'): Running {
  const proc = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let resolveReady: () => void = () => undefined;
  let rejectReady: (e: Error) => void = () => undefined;
  const ready = new Promise<void>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  const check = (): void => {
    if (readyText !== undefined && (readyOn === 'stdout' ? out : err).includes(readyText)) resolveReady();
  };
  // A command that announces nothing is taken as ready after a short start.
  if (readyText === undefined) setTimeout(() => resolveReady(), 500);
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    check();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
    check();
  });
  const exited = new Promise<void>((res) => proc.on('exit', () => res()));
  proc.on('exit', (code) => rejectReady(new Error(`${argv.join(' ')} exited (${code}) before it was ready: ${err}`)));
  const timer = setTimeout(() => rejectReady(new Error(`${argv.join(' ')} not ready after 20 s: ${err}`)), 20000);
  void ready.finally(() => clearTimeout(timer)).catch(() => undefined);
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    ready,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGINT');
        const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

/** tcpdump -n -e on an interface of a netns, line-buffered; ready once it is listening. */
export function tcpdump(netns: string, iface: string, filter: string[]): Running {
  return run(['ip', 'netns', 'exec', netns, 'tcpdump', '-n', '-e', '-l', '-i', iface, ...filter], {}, 'listening on', 'stderr');
}

/** xtables-monitor --trace in a netns: prints each packet a TRACE rule marks (nothing until then). */
export function xtablesTrace(netns: string): Running {
  return run(['ip', 'netns', 'exec', netns, 'xtables-monitor', '--trace'], {}, undefined, 'stdout');
}

/**
 * What xtables-monitor --trace prints in a node's netns while `traffic` runs, with a TRACE rule
 * for ICMP in raw/PREROUTING (the seed's rule) that is removed again afterwards.
 */
export async function icmpTraceIn(netns: string, traffic: () => void): Promise<string> {
  const rule = ['-p', 'icmp', '-m', 'comment', '--comment', 'lab-trace-test', '-j', 'TRACE'];
  inNetns(netns, ['iptables', '-t', 'raw', '-I', 'PREROUTING', ...rule]);
  try {
    const trace = xtablesTrace(netns);
    await trace.ready;
    traffic();
    await settle();
    await trace.stop();
    return trace.stdout();
  } finally {
    inNetns(netns, ['iptables', '-t', 'raw', '-D', 'PREROUTING', ...rule]);
  }
}

/**
 * The argv that runs an emulated command on a node as the images' wrappers do: in the node's
 * netns, one node process running the bundle `up` made of the script.
 */
function emulatedArgv(lab: TestLab, node: string, script: EmulatedScript, args: string[]): string[] {
  return ['ip', 'netns', 'exec', lab.nodeNetns(node), process.execPath, emulatedBundle(lab.dir, script), ...args];
}

/** An emulated lab command (cilium-dbg or pwru), running on a node as the API server's exec runs it. */
export function emulated(lab: TestLab, node: string, script: EmulatedScript, args: string[], readyText: string, readyOn: 'stdout' | 'stderr' = 'stderr'): Running {
  return run(emulatedArgv(lab, node, script, args), { LAB_STATE: join(lab.dir, 'state.json'), LAB_NODE: node }, readyText, readyOn);
}

/** Runs an emulated command to completion; returns stdout, stderr and the exit code. */
export function emulatedOnce(lab: TestLab, node: string, script: EmulatedScript, args: string[], env: NodeJS.ProcessEnv = {}): { stdout: string; stderr: string; status: number | null } {
  const [cmd, ...argv] = emulatedArgv(lab, node, script, args);
  const r = spawnSync(cmd, argv, {
    env: { ...process.env, LAB_STATE: join(lab.dir, 'state.json'), LAB_NODE: node, ...env },
    encoding: 'utf8',
  });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

/**
 * Waits until a process has printed nothing new for `idleMs` (after at least `idleMs`), or
 * `maxMs` passed: the emulated tools print a little after the packets (they read files and
 * settle windows), later still on a loaded machine, so fixed sleeps would make tests flaky.
 */
export async function quiet(r: Running, idleMs = 1000, maxMs = 10000): Promise<void> {
  const start = Date.now();
  let last = r.stdout().length;
  let lastChange = Date.now();
  while (Date.now() - start < maxMs) {
    await settle(100);
    const now = r.stdout().length;
    if (now !== last) {
      last = now;
      lastChange = Date.now();
    } else if (Date.now() - lastChange >= idleMs && now > 0) {
      return;
    }
  }
}

/** The FUNC column of the emulated pwru while `traffic` runs on a node. */
export async function pwruFuncs(lab: TestLab, node: string, pcapFilter: string[], traffic: () => void): Promise<string[]> {
  const pwru = emulated(lab, node, 'pwru', pcapFilter, 'Listening for events..');
  await pwru.ready;
  traffic();
  await quiet(pwru, 1500);
  await pwru.stop();
  if (!pwru.stderr().includes('Received signal, exiting program..')) throw new Error(`pwru did not exit on SIGINT: ${pwru.stderr()}`);
  return pwru.stdout().trim().split('\n').slice(1).map((x) => x.trim().split(/\s+/).pop() as string);
}

/** Waits a little for late output (capture buffers, the emulated tools' settle windows). */
export const settle = (ms = 800): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Lines of a capture that mention ICMP echo requests / replies. */
export function icmpLines(text: string): { requests: string[]; replies: string[] } {
  const lines = text.split('\n');
  return { requests: lines.filter((l) => l.includes('ICMP echo request')), replies: lines.filter((l) => l.includes('ICMP echo reply')) };
}
