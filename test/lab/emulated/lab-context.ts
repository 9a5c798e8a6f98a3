/**
 * What an emulated command knows about where it runs: the lab (LAB_STATE = path of
 * .lab/state.json) and the node whose agent or host it stands for (LAB_NODE), both set by the
 * lab's exec. Everything the emulated commands print comes from here and from the events the
 * lab's kernel datapath wrote.
 */
import { readLab, type KernelFacts } from '../kernel/kernel-facts.js';
import type { LabNode, LabPod, LabState } from '../state.js';
import { CliError } from './cilium/cli-error.js';

export interface NodeContext {
  statePath: string;
  state: LabState;
  kernel: KernelFacts;
  node: LabNode;
  /** Pods scheduled on this node. */
  pods: LabPod[];
}

/** Thrown when the environment does not name a lab and node. */
export class NoLabError extends Error {}

/** The lab and node from LAB_STATE and LAB_NODE. */
export function nodeContext(env: NodeJS.ProcessEnv = process.env): NodeContext {
  const statePath = env.LAB_STATE;
  const nodeName = env.LAB_NODE;
  if (!statePath || !nodeName) throw new NoLabError('LAB_STATE and LAB_NODE must be set (this command is emulated by the datapath lab and runs only inside it)');
  let lab: ReturnType<typeof readLab>;
  try {
    lab = readLab(statePath);
  } catch (err) {
    throw new NoLabError(`cannot read the lab at ${statePath}: ${(err as Error).message}`);
  }
  const node = lab.state.nodes.find((n) => n.name === nodeName);
  if (!node) throw new NoLabError(`node ${nodeName} is not in the lab`);
  return { statePath, state: lab.state, kernel: lab.kernel, node, pods: lab.state.pods.filter((p) => p.node === nodeName) };
}

/**
 * runEmulated runs an emulated command's main as cobra does: a CLI or lab error is one
 * `Error: <message>` line and exit 1; a negative code keeps the process running (monitor, observe).
 */
export function runEmulated(main: (argv: string[]) => number): void {
  try {
    const code = main(process.argv.slice(2));
    if (code >= 0) process.exitCode = code;
  } catch (err) {
    if (err instanceof CliError || err instanceof NoLabError) {
      process.stderr.write(`Error: ${err.message}\n`);
      process.exitCode = 1;
    } else {
      throw err;
    }
  }
}
