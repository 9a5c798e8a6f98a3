/**
 * The per-node lab-agent processes: each runs inside its node's netns, loads the datapath, fills
 * its maps from a config file and appends the datapath's events to `.lab/events/<node>.jsonl`.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS } from './compile.js';
import type { NetworkFacts } from './network.js';
import type { LabPaths } from './paths.js';
import { LabError } from './run.js';
import { serviceConfigLines } from './services.js';
import { policyFilePath } from '../policy/agent-files.js';
import { ID_HOST, ID_REMOTE_NODE, networkedPods, type DatapathMode, type PlannedNode, type Topology, type TunnelMode } from './topology.js';

/** The agent's config: datapath mode, devices, local endpoints and the ipcache (Cilium's view of every address). */
export function agentConfig(topology: Topology, node: PlannedNode, facts: NetworkFacts, mode: DatapathMode, tunnel: TunnelMode): string {
  const nf = facts.nodes.get(node.name);
  if (!nf) throw new LabError(`no facts for node ${node.name}`);
  const lines = [`mode ${mode}`, `tunnel ${tunnel}`, `node_ip ${node.ip}`, `host_ep ${node.hostEndpointId}`, `underlay ${nf.underlayIfindex}`];
  if (nf.vxlanIfindex !== undefined) lines.push(`vxlan ${nf.vxlanIfindex}`);
  for (const pod of networkedPods(topology, node.name)) {
    const pf = facts.pods.get(pod.uid);
    if (!pf) throw new LabError(`no facts for pod ${pod.name}`);
    lines.push(`ep ${pf.lxcIfindex} ${pod.endpointId} ${pod.identity} ${pod.ip} ${pf.lxcMac} ${pf.mac}`);
  }
  lines.push(`ipcache ${node.ip}/32 ${ID_HOST} 0`, `ipcache ${node.routerIp}/32 ${ID_HOST} 0`);
  for (const other of topology.nodes.filter((n) => n !== node)) {
    lines.push(`ipcache ${other.ip}/32 ${ID_REMOTE_NODE} 0`);
    lines.push(`ipcache ${other.routerIp}/32 ${ID_REMOTE_NODE} ${other.ip}`);
    // Unknown addresses of another node's pod CIDR still go to that node (world identity).
    lines.push(`ipcache ${other.podCidr} 2 ${other.ip}`);
  }
  for (const pod of networkedPods(topology)) {
    const tunnelEndpoint = pod.node === node.name ? '0' : (topology.nodes.find((n) => n.name === pod.node) as PlannedNode).ip;
    lines.push(`ipcache ${pod.ip}/32 ${pod.identity} ${tunnelEndpoint}`);
  }
  lines.push(...serviceConfigLines(topology.pods));
  return lines.join('\n') + '\n';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts a node's agent detached (it outlives `up`) and waits until its programs are attached. */
export async function startAgent(paths: LabPaths, node: PlannedNode, config: string): Promise<number> {
  writeFileSync(paths.agentConfig(node.name), config);
  const log = openSync(paths.agentLog(node.name), 'a');
  const child = spawn(
    'ip',
    [
      'netns', 'exec', node.netns, join(paths.bin, ARTIFACTS.agent),
      '--obj', join(paths.bin, ARTIFACTS.datapath),
      '--config', paths.agentConfig(node.name),
      '--events', paths.eventsOf(node.name),
      '--ready', paths.agentReady(node.name),
      '--policy', policyFilePath(paths.dir, node.name),
    ],
    { detached: true, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new LabError(`could not start the agent of ${node.name}`);
  child.unref();
  // `ip netns exec` execs the agent, so the pid is the agent's.
  writeFileSync(paths.agentPid(node.name), `${pid}\n`);
  const deadline = Date.now() + 15000;
  while (!existsSync(paths.agentReady(node.name))) {
    if (!alive(pid)) {
      const tail = readFileSync(paths.agentLog(node.name), 'utf8').trim().split('\n').slice(-3).join(' | ');
      throw new LabError(`the agent of ${node.name} exited: ${tail}`);
    }
    if (Date.now() > deadline) throw new LabError(`the agent of ${node.name} did not attach its programs within 15 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return pid;
}
