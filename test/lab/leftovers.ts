/**
 * What a trace could have left on a lab: its processes in the lab's namespaces (captures, pwru,
 * monitors and hubble in the agents, xtables-monitor, traffic, our pidfile wrappers), TRACE rules
 * in the nodes, probe pods the API server still has, and pidfiles of the runs the lab's API
 * server saw. Shared by the fault tests and `npm run chaos`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTAINER_FILES_GONE, NODE_GONE } from './api/faults.js';
import type { LabState } from './state.js';

/** The command lines a trace starts in a lab (any of them still running after it is a leftover). */
const OURS = /tcpdump -i .* -w - -U|pwru(?:\.mjs|\.ts)? .*--output-meta|cilium-dbg(?:\.mjs)? monitor|cilium-dbg\.mjs.* monitor|hubble(?:\.mjs)? observe|xtables-monitor --trace|kubectl-datapath-|(?:^|[ /])(?:ping|nc) -/;

function cmdline(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

function netnsPids(netns: string): string[] {
  return spawnSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' }).stdout.split('\n').filter((p) => /^\d+$/.test(p));
}

/** The run ids the lab's API server saw (probe pod names, pidfile paths in exec argv). */
export function runIdsSeen(dir: string): Set<string> {
  const ids = new Set<string>();
  const log = join(dir, 'api.log');
  if (!existsSync(log)) return ids;
  for (const m of readFileSync(log, 'utf8').matchAll(/kubectl-datapath-([0-9a-f]{8})-|datapath-([0-9a-f]{8})-(?:capture|pwru)-/g)) ids.add(m[1] ?? m[2]);
  return ids;
}

/**
 * Pidfiles written into pods that a fault deleted (or whose node went): on a node their files went
 * with the container; the lab's containers share this machine's /tmp, so they are no leftover.
 */
function podsWhoseFilesWent(dir: string): Set<string> {
  const log = join(dir, 'api.log');
  const pidfiles = new Set<string>();
  if (!existsSync(log)) return pidfiles;
  const text = readFileSync(log, 'utf8');
  const gonePods = new Set([...text.matchAll(new RegExp(`${CONTAINER_FILES_GONE} (\\S+)`, 'g'))].map((m) => m[1]));
  // Deleted through the API: the probe pods a trace removes.
  for (const m of text.matchAll(/DELETE \/api\/v1\/namespaces\/([^/\s]+)\/pods\/([^/?\s]+)\S* 200 /g)) gonePods.add(`${m[1]}/${m[2]}`);
  for (const m of text.matchAll(/\/namespaces\/([^/\s]+)\/pods\/([^/\s]+)\/exec\?(\S+)/g)) {
    if (!gonePods.has(`${m[1]}/${m[2]}`)) continue;
    for (const p of decodeURIComponent(m[3].replaceAll('+', ' ')).matchAll(/\/tmp\/kubectl-datapath-[0-9a-f]{8}-[\w.-]+\.pid/g)) pidfiles.add(p[0]);
  }
  return pidfiles;
}

/** Everything a trace left on the lab; [] when it left nothing. */
export function leftovers(lab: { dir: string; state: LabState }): string[] {
  const found: string[] = [];
  const log = join(lab.dir, 'api.log');
  // A gone node's netns keeps what was there (a TRACE rule), out of anyone's reach, as a dead node's: not the trace's to remove.
  const goneNodes = new Set(existsSync(log) ? [...readFileSync(log, 'utf8').matchAll(new RegExp(`${NODE_GONE} (\\S+)`, 'g'))].map((m) => m[1]) : []);
  const nodes = lab.state.nodes.filter((n) => !goneNodes.has(n.name));
  const spaces = [...nodes.map((n) => ({ where: n.name, netns: n.netns })), ...lab.state.pods.flatMap((p) => (p.netns && !goneNodes.has(p.node) ? [{ where: `${p.namespace}/${p.name}`, netns: p.netns }] : []))];
  for (const { where, netns } of spaces) {
    for (const pid of netnsPids(netns)) {
      const cmd = cmdline(pid);
      if (OURS.test(cmd)) found.push(`${where}: process ${pid} ${cmd.slice(0, 160)}`);
    }
  }
  for (const node of nodes) {
    const raw = spawnSync('ip', ['netns', 'exec', node.netns, 'iptables-save', '-t', 'raw'], { encoding: 'utf8' }).stdout;
    for (const line of raw.split('\n')) if (line.includes('datapath-')) found.push(`${node.name}: rule ${line}`);
  }
  const podsFile = join(lab.dir, 'pods.json');
  if (existsSync(podsFile)) {
    try {
      const pods = (JSON.parse(readFileSync(podsFile, 'utf8')) as { pods: { metadata: { namespace: string; name: string } }[] }).pods;
      for (const p of pods) found.push(`probe pod ${p.metadata.namespace}/${p.metadata.name}`);
    } catch {
      // being rewritten: the next look sees it
    }
  }
  const ids = runIdsSeen(lab.dir);
  const gone = podsWhoseFilesWent(lab.dir);
  for (const f of readdirSync('/tmp')) {
    const m = /^kubectl-datapath-([0-9a-f]{8})-/.exec(f);
    if (m && ids.has(m[1]) && !gone.has(`/tmp/${f}`)) found.push(`pidfile /tmp/${f}`);
  }
  return found;
}

/** Waits up to ms for leftovers to clear (a process killed by the stop command exits a little later); returns what is left. */
export async function settledLeftovers(lab: { dir: string; state: LabState }, ms = 3000): Promise<string[]> {
  const end = Date.now() + ms;
  for (;;) {
    const left = leftovers(lab);
    if (left.length === 0 || Date.now() >= end) return left;
    await new Promise((r) => setTimeout(r, 200));
  }
}
