/**
 * The application servers of the lab's pods (the `web` pod's nginx): one process per serving pod,
 * started inside the pod's netns (emulated/pod-servers.ts, bundled at `up`), listening on the
 * ports its planned image serves. `down` kills them by their pidfiles in the lab's run directory
 * (and as processes of the lab's namespaces); they also exit by themselves once the pidfile is gone.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { emulatedBundle } from '../emulated/bundle.js';
import type { LabPaths } from './paths.js';
import { LabError } from './run.js';
import type { PlannedPod } from './topology.js';

/** The pidfile of a pod's servers. */
export function podServerPidfile(paths: LabPaths, pod: PlannedPod): string {
  return join(paths.run, `server-${pod.namespace}-${pod.name}.pid`);
}

/** Starts the servers of every pod that serves something; resolves once all listen. */
export async function startPodServers(paths: LabPaths, pods: PlannedPod[]): Promise<void> {
  const serving = pods.filter((p) => p.serves && p.netns && (p.serves.tcp.length > 0 || p.serves.udp.length > 0));
  await Promise.all(serving.map((pod) => startOne(paths, pod)));
}

async function startOne(paths: LabPaths, pod: PlannedPod): Promise<void> {
  const pidfile = podServerPidfile(paths, pod);
  const serves = pod.serves as NonNullable<PlannedPod['serves']>;
  const log = openSync(join(paths.logs, `server-${pod.namespace}-${pod.name}.log`), 'a');
  const child = spawn(
    'ip',
    [
      'netns', 'exec', pod.netns as string, process.execPath, emulatedBundle(paths.dir, 'pod-servers'),
      '--pidfile', pidfile,
      ...serves.tcp.flatMap((p) => ['--tcp', String(p)]),
      ...serves.udp.flatMap((p) => ['--udp', String(p)]),
    ],
    { detached: true, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  child.unref();
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  const deadline = Date.now() + 10_000;
  while (!existsSync(pidfile)) {
    if (exited !== undefined) {
      const tail = readFileSync(join(paths.logs, `server-${pod.namespace}-${pod.name}.log`), 'utf8').trim().split('\n').slice(-3).join(' | ');
      throw new LabError(`the servers of pod ${pod.namespace}/${pod.name} exited (${exited}): ${tail}`);
    }
    if (Date.now() > deadline) throw new LabError(`the servers of pod ${pod.namespace}/${pod.name} did not listen within 10 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
