/**
 * PID namespaces as a node has them. A hostPID pod shares the node's: the lab's nodes all live on
 * one machine, whose PID 1 sees every lab's /run/netns, where a real node's init sees its own
 * pods' only. So each node gets an init of its own (a PID namespace whose PID 1 is a `sleep` in a
 * mount namespace whose /run/netns holds that node's pods). Every other container has a PID
 * namespace of its own that all execs into it share (a pidfile written by one exec is read by
 * the next), with an init whose /run/netns is empty, as a container image's. Each is started at
 * the first exec that needs it and lives in the node's or pod's netns, so `lab down` ends it;
 * a deleted pod's is ended with the pod.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hostBinary } from './images.js';

/** Builds the init's /proc and /run/netns as an exec's (one source of that view); `all`: an init keeps every capability. */
const CONFINE = fileURLToPath(new URL('./confine.sh', import.meta.url));
const IP = hostBinary('ip') ?? '/usr/sbin/ip';
const inits = new Map<string, number>();

function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep');
  } catch {
    return false;
  }
}

/** The first child of a process, when it has one. */
function childOf(pid: number): number | undefined {
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      const c = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/)[0];
      if (c) return Number(c);
    }
  } catch {
    return undefined;
  }
  return undefined;
}

const sleepSync = (ms: number): void => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms) as unknown as void;

/** Ends the init of a PID namespace (a deleted pod's). */
export function stopInit(key: string): void {
  const pid = inits.get(key);
  inits.delete(key);
  if (pid !== undefined && alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * The host PID of the init of PID namespace `key` (started when missing, in netns `netns`, with
 * `visible` named netns in its /run/netns); undefined when it could not start.
 */
export function initPid(key: string, netns: string, visible: string[], stashDir: string): number | undefined {
  const known = inits.get(key);
  if (known !== undefined && alive(known)) return known;
  const child = spawn(IP, ['netns', 'exec', netns, '/usr/bin/unshare', '--pid', '--fork', '/bin/sh', CONFINE, stashDir, 'all', ...visible, '--', 'sleep', 'infinity'], { detached: true, stdio: 'ignore' });
  child.unref();
  if (child.pid === undefined) return undefined;
  for (let i = 0; i < 100; i++) {
    const init = childOf(child.pid);
    if (init !== undefined && alive(init) && readlinkSync(`/proc/${init}/ns/pid`) !== readlinkSync('/proc/self/ns/pid')) {
      inits.set(key, init);
      return init;
    }
    sleepSync(20);
  }
  return undefined;
}
