/**
 * A small real lab for the API server's own tests, built without the kernel side: two node
 * namespaces joined by an underlay veth, and two pod namespaces (`same` and `cni-6vf5d`, as in the seed) joined by a veth,
 * all named `dplab-apitest-*`, plus the LabState that describes them.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LabApi, LabState } from '../state.js';
import { launchApiServer, stopApiServer } from './launch.js';

export interface FakeLab {
  state: LabState;
  statePath: string;
  netns: { bpf1: string; bpf2: string; same: string; cni: string };
  cleanup(): void;
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function mac(netns: string, dev: string): string {
  return (JSON.parse(ip('-n', netns, '-j', 'link', 'show', dev)) as { address: string }[])[0].address;
}

/** Builds the namespaces and writes state.json into a fresh temp directory. */
export function buildFakeLab(): FakeLab {
  const id = randomBytes(3).toString('hex');
  const netns = {
    bpf1: `dplab-apitest-${id}-bpf1`,
    bpf2: `dplab-apitest-${id}-bpf2`,
    same: `dplab-apitest-${id}-same`,
    cni: `dplab-apitest-${id}-cni`,
  };
  const cleanup = (): void => {
    for (const ns of Object.values(netns)) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // not created
      }
    }
  };
  try {
    for (const ns of Object.values(netns)) {
      ip('netns', 'add', ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    // The underlay: the two nodes' eth0, one veth pair between their namespaces.
    ip('-n', netns.bpf1, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns.bpf2);
    ip('-n', netns.bpf1, 'addr', 'add', '192.168.2.61/24', 'dev', 'eth0');
    ip('-n', netns.bpf2, 'addr', 'add', '192.168.2.62/24', 'dev', 'eth0');
    ip('-n', netns.bpf1, 'link', 'set', 'eth0', 'up');
    ip('-n', netns.bpf2, 'link', 'set', 'eth0', 'up');
    // The two pods, wired directly to each other (created inside their own namespaces only).
    ip('-n', netns.same, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns.cni);
    ip('-n', netns.same, 'addr', 'add', '10.0.1.135/24', 'dev', 'eth0');
    ip('-n', netns.cni, 'addr', 'add', '10.0.1.180/24', 'dev', 'eth0');
    ip('-n', netns.same, 'link', 'set', 'eth0', 'up');
    ip('-n', netns.cni, 'link', 'set', 'eth0', 'up');
  } catch (e) {
    cleanup();
    throw e;
  }

  const dir = mkdtempSync(join(tmpdir(), 'dplab-apitest-'));
  const state: LabState = {
    version: 1,
    dir,
    mode: 'bpf',
    tunnel: 'disabled',
    ciliumVersion: '1.16.5',
    createdAt: new Date(Date.now() - 19 * 3600 * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    nodes: [
      { name: 'bpf1', netns: netns.bpf1, ip: '192.168.2.61', underlayIf: 'eth0', underlayMac: mac(netns.bpf1, 'eth0'), podCidr: '10.0.1.0/24', routerIp: '10.0.1.159', ciliumHostMac: '4a:5b:1c:2d:3e:01', kernel: release() },
      { name: 'bpf2', netns: netns.bpf2, ip: '192.168.2.62', underlayIf: 'eth0', underlayMac: mac(netns.bpf2, 'eth0'), podCidr: '10.0.2.0/24', routerIp: '10.0.2.71', ciliumHostMac: '4a:5b:1c:2d:3e:02', kernel: release() },
    ],
    pods: [
      {
        namespace: 'default',
        name: 'same',
        uid: randomUUID(),
        node: 'bpf1',
        netns: netns.same,
        hostNetwork: false,
        ip: '10.0.1.135',
        mac: mac(netns.same, 'eth0'),
        lxc: { name: 'lxcda6f5295b4b7', ifindex: 28, mac: '9a:3d:54:61:0c:11' },
        endpointId: 2836,
        identity: 31009,
        labels: { run: 'same' },
        image: 'nicolaka/netshoot:v0.13',
        containers: ['same'],
      },
      {
        namespace: 'default',
        name: 'cni-6vf5d',
        uid: randomUUID(),
        node: 'bpf1',
        netns: netns.cni,
        hostNetwork: false,
        ip: '10.0.1.180',
        mac: mac(netns.cni, 'eth0'),
        lxc: { name: 'lxcf9d0a91de5fb', ifindex: 24, mac: 'b6:1e:07:42:9a:23' },
        endpointId: 3663,
        identity: 37483,
        labels: { app: 'cni', 'pod-template-hash': '5d8f7c9b4' },
        image: 'docker.io/library/nginx:1.27',
        containers: ['cni'],
      },
    ],
  };
  const statePath = join(dir, 'state.json');
  writeFileSync(statePath, `${JSON.stringify(state, null, 2)}\n`);
  return {
    state,
    statePath,
    netns,
    cleanup: () => {
      cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real kubectl against the lab with its own discovery cache directory. */
export function kubectl(kubeconfig: string, cacheDir: string, args: string[], input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/kubectl', args, {
      env: { ...process.env, KUBECONFIG: kubeconfig, KUBECACHEDIR: cacheDir },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Pids whose environment names this lab's state file: everything the lab's execs started. */
export function processesOfLab(statePath: string): number[] {
  const pids: number[] = [];
  const needle = `LAB_STATE=${statePath}`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(needle)) pids.push(Number(entry));
    } catch {
      // gone, or a kernel thread
    }
  }
  return pids;
}

/** The pid of a process started by this lab's execs whose argv is exactly `argv`. */
export function findLabProcess(statePath: string, argv: string[]): number | undefined {
  return processesOfLab(statePath).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === `${argv.join('\0')}\0`;
    } catch {
      return false;
    }
  });
}

/** Gone or a zombie: killed, whether or not reaped yet. */
export function dead(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] === 'Z';
  } catch {
    return true;
  }
}

/** Polls until probe returns a value; fails after ms. */
export async function until<T>(what: string, probe: () => T | undefined, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A fake lab with its API server, set up before a test file's tests and torn down after them. */
export interface RunningLab {
  lab: FakeLab;
  api: LabApi;
  /** A fresh KUBECACHEDIR, so kubectl's discovery cache never comes from another server. */
  cacheDir: string;
  kubectl(args: string[], input?: string): Promise<Run>;
}

/** Registers beforeAll/afterAll that build the lab (prepare runs before launch) and launch its server. */
export function useRunningLab(prepare?: (lab: FakeLab) => void): RunningLab {
  const running = {} as RunningLab;
  beforeAll(async () => {
    running.lab = buildFakeLab();
    prepare?.(running.lab);
    running.cacheDir = mkdtempSync(join(tmpdir(), 'dplab-kubecache-'));
    const started = performance.now();
    running.api = await launchApiServer(running.lab.state);
    process.stderr.write(`lab API server launched in ${Math.round(performance.now() - started)} ms\n`);
    running.kubectl = (args, input) => kubectl(running.api.kubeconfig, running.cacheDir, args, input);
  }, 60_000);
  afterAll(async () => {
    if (running.lab) {
      await stopApiServer(running.lab.state);
      running.lab.cleanup();
    }
    if (running.cacheDir) rmSync(running.cacheDir, { recursive: true, force: true });
  });
  return running;
}
