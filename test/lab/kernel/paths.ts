/**
 * Where a lab keeps its files. The lab of `npm run lab` lives in `<repo>/.lab` (gitignored) and
 * its state in `.lab/state.json`, which the API server and the emulated CLIs read.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (test/lab/kernel/../../..). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The directory of the lab of `npm run lab`. */
export const DEFAULT_LAB_DIR = join(REPO_ROOT, '.lab');

/** Files of one lab, all under its directory. */
export function labPaths(dir: string) {
  return {
    dir,
    state: join(dir, 'state.json'),
    bin: join(dir, 'bin'),
    run: join(dir, 'run'),
    events: join(dir, 'events'),
    logs: join(dir, 'logs'),
    /** Marker written first by `up`: a dir with it and no state.json is a partial `up`. */
    building: join(dir, 'building'),
    eventsOf: (node: string) => join(dir, 'events', `${node}.jsonl`),
    agentConfig: (node: string) => join(dir, 'run', `${node}.conf`),
    agentReady: (node: string) => join(dir, 'run', `${node}.ready`),
    agentPid: (node: string) => join(dir, 'run', `${node}.pid`),
    agentLog: (node: string) => join(dir, 'logs', `agent-${node}.log`),
    instanceFile: join(dir, 'instance'),
  };
}

export type LabPaths = ReturnType<typeof labPaths>;
