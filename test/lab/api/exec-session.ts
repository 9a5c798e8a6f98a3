/**
 * Pod exec over WebSocket, channel.k8s.io v5 (preferred) or v4: binary frames whose first byte is
 * the channel, an empty frame on the lowest output channel once connected, one metav1.Status on
 * channel 3, then a close with code 1000 (notes/protocols.md §1.2-§1.6). The command runs for real
 * with `ip netns exec <netns>`, the image's command directory as its only PATH, confined as its
 * pod's spec asks and no more (confine.sh): the node's PID namespace with hostPID (else one of its
 * own), the host's /run/netns only when a hostPath volume mounts it, the container's capabilities.
 */
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { ExecTarget } from './cluster.js';
import { cutByFault } from './faults.js';
import { hostBinary, missingExecutable } from './images.js';
import { initPid } from './node-init.js';
import type { ProcessGroups } from './processes.js';
import { badRequest } from './status.js';

export const V5 = 'v5.channel.k8s.io';
export const V4 = 'v4.channel.k8s.io';

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const RESIZE = 4;
const CLOSE = 255;

/** How long to wait for output pipes after the command exited (background jobs may hold them). */
const DRAIN_MS = 2000;
/** Grace between SIGTERM and SIGKILL when the client goes away mid-command. */
const KILL_GRACE_MS = 2000;
/** Pause reading the command's output while this much is queued for the client. */
const HIGH_WATER = 4 * 1024 * 1024;

export interface ExecOptions {
  command: string[];
  container: string;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** apimachinery's query bool: absent -> false, "0"/"false" -> false, anything else (even "") -> true. */
function queryBool(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  if (value === null) return false;
  return !/^(0|false)$/i.test(value);
}

/** PodExecOptions from the query string (`command` repeated once per argv element). */
export function parseExecOptions(query: URLSearchParams): ExecOptions {
  const options: ExecOptions = {
    command: query.getAll('command'),
    container: query.get('container') ?? '',
    stdin: queryBool(query, 'stdin'),
    stdout: queryBool(query, 'stdout'),
    stderr: queryBool(query, 'stderr'),
    tty: queryBool(query, 'tty'),
  };
  if (options.command.length === 0) throw badRequest('you must specify at least 1 command');
  if (!options.stdin && !options.stdout && !options.stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
  if (options.tty && options.stderr) options.stderr = false; // a TTY has one output stream (kubectl drops stderr too)
  return options;
}

/** The subprotocol to answer with: v5, else v4; undefined when the client offers neither. */
export function pickProtocol(offered: string | undefined): string | undefined {
  const list = (offered ?? '').split(',').map((p) => p.trim());
  if (list.includes(V5)) return V5;
  if (list.includes(V4)) return V4;
  return undefined;
}

/** The Status a kubelet reports for an exit code (apiserver streamtranslator / kubelet ServeExec). */
export function exitStatus(code: number): Record<string, unknown> {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: command terminated with exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** What runc prints when a container cannot start the process, and the exit code the lab reports. */
export const NOT_FOUND_EXIT = 127;
function runtimeStartFailure(why: string): string {
  return `OCI runtime exec failed: exec failed: unable to start container process: ${why}: unknown\n`;
}

export interface ExecContext {
  target: ExecTarget;
  options: ExecOptions;
  processes: ProcessGroups;
  statePath: string;
  /** HOSTNAME inside the "container": the pod name, or the node name for hostNetwork pods. */
  hostname: string;
  log: (line: string) => void;
}

const IP = hostBinary('ip') ?? '/usr/sbin/ip';
const CONFINE = fileURLToPath(new URL('./confine.sh', import.meta.url));

/** Runs one exec session on an accepted WebSocket until the command ends or the client leaves. */
export function runExec(ws: WebSocket, ctx: ExecContext): void {
  const { options, target } = ctx;
  let finished = false;
  /** The command's output pipes, paused while the client's queue is long. */
  let outputs: Readable[] = [];

  const send = (channel: number, payload: Buffer | string = Buffer.alloc(0)): void => {
    if (ws.readyState !== WebSocket.OPEN) return;
    const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
    ws.send(Buffer.concat([Buffer.from([channel]), data]), { binary: true }, afterSend);
  };
  const finish = (code: number): void => {
    if (finished) return;
    finished = true;
    send(STATUS, JSON.stringify(exitStatus(code)));
    if (ws.readyState === WebSocket.OPEN) ws.close(1000);
    ctx.log(`exec ${target.podKey}/${target.container} ${JSON.stringify(options.command)} -> exit ${code}`);
  };

  // "The connection is established": an empty frame on the lowest channel the client reads.
  send(options.stdout ? STDOUT : options.stderr ? STDERR : STATUS);

  const missing = missingExecutable(target.binDir, options.command[0]);
  if (missing !== undefined) {
    if (options.stderr) send(STDERR, runtimeStartFailure(missing));
    else if (options.stdout && options.tty) send(STDOUT, runtimeStartFailure(missing));
    finish(NOT_FOUND_EXIT);
    return;
  }

  const env: NodeJS.ProcessEnv = {
    PATH: target.binDir,
    HOME: '/root',
    HOSTNAME: ctx.hostname,
    LAB_STATE: ctx.statePath,
    LAB_NODE: target.node.name,
    LAB_POD: target.podKey,
  };
  if (options.tty) env.TERM = 'xterm';
  const confine = ['/bin/sh', CONFINE, target.stashDir, target.capabilities, ...target.visibleNetns, '--', ...options.command];
  // hostPID: the node's PID namespace; otherwise the container's own, shared by all its execs.
  const init = target.hostPID
    ? initPid(`node:${target.node.name}`, target.node.netns, target.nodeNetnsNames, target.stashDir)
    : initPid(`pod:${target.podKey}`, target.netns, [], target.stashDir);
  if (init === undefined) {
    if (options.stderr) send(STDERR, runtimeStartFailure('the container PID namespace could not be entered'));
    finish(126);
    return;
  }
  const argv = ['netns', 'exec', target.netns, '/usr/bin/nsenter', '--target', String(init), '--pid', '--', ...confine];
  const child: ChildProcess = ctx.processes.spawn(target.podKey, IP, argv, {
    cwd: '/',
    env,
    stdio: [options.stdin ? 'pipe' : 'ignore', options.stdout ? 'pipe' : 'ignore', options.stderr || options.tty ? 'pipe' : 'ignore'],
  });

  outputs = [child.stdout, child.stderr].filter((s) => s !== null);
  let openOutputs = outputs.length;
  let exitCode: number | undefined;
  let drainTimer: NodeJS.Timeout | undefined;
  const maybeFinish = (): void => {
    if (exitCode === undefined) return;
    if (openOutputs === 0) {
      clearTimeout(drainTimer);
      finish(exitCode);
    } else if (drainTimer === undefined) {
      drainTimer = setTimeout(() => {
        outputs.forEach((s) => s.destroy());
        finish(exitCode as number);
      }, DRAIN_MS);
    }
  };

  function afterSend(): void {
    if (ws.bufferedAmount < HIGH_WATER / 4) outputs.forEach((s) => s.isPaused() && s.resume());
  }
  const forward = (channel: number) => (chunk: Buffer) => {
    send(channel, chunk);
    if (ws.bufferedAmount > HIGH_WATER) outputs.forEach((s) => s.pause());
  };
  child.stdout?.on('data', forward(STDOUT));
  child.stderr?.on('data', forward(options.tty ? STDOUT : STDERR));
  for (const s of outputs) {
    s.on('close', () => {
      openOutputs--;
      maybeFinish();
    });
  }
  child.stdin?.on('error', () => undefined); // the command may exit without reading its stdin

  child.on('error', (err) => {
    if (options.stderr) send(STDERR, runtimeStartFailure(err.message));
    exitCode = 126;
    openOutputs = 0;
    maybeFinish();
  });
  child.on('exit', (code, signal) => {
    // Like runc: a command killed by signal N exits 128+N.
    exitCode = code ?? 128 + (signal ? constants.signals[signal] : 0);
    maybeFinish();
  });

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary || data.length === 0) return;
    const channel = data[0];
    if (channel === STDIN && options.stdin) child.stdin?.write(data.subarray(1));
    else if (channel === CLOSE && ws.protocol === V5 && data[1] === STDIN) child.stdin?.end();
    else if (channel === RESIZE) return; // no pty in the lab: window size has nothing to apply to
  });

  ws.on('close', () => {
    if (finished || exitCode !== undefined || child.pid === undefined) return;
    // An API server restart (the exec-cut fault) ends the stream, not the command: it goes on running in the container.
    if (cutByFault(ws)) return ctx.log(`exec ${target.podKey} ${JSON.stringify(options.command)}: stream cut, the command goes on`);
    // The client went away mid-command: stop it rather than leave it running.
    const pgid = child.pid;
    ctx.log(`exec ${target.podKey} ${JSON.stringify(options.command)}: client closed, killing process group ${pgid}`);
    ctx.processes.signalGroup(pgid, 'SIGTERM');
    // Background jobs of the command share its group, so the group is killed even after the leader exits.
    setTimeout(() => ctx.processes.signalGroup(pgid, 'SIGKILL'), KILL_GRACE_MS).unref();
  });
}
