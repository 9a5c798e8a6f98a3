import type { PlannedProbe, PodHandle, ProbePodRole } from '../core/plan.js';

/**
 * ProbeCommand: everything needed to run one planned probe on the cluster, as data: where it
 * runs, the argv (arrays only, never a shell string with input in it), how it says it is ready,
 * how it is stopped, and which parser reads its output.
 */
export interface ProbeCommand {
  probe: PlannedProbe;
  /** The pod and container the commands run in. */
  target: PodHandle;
  /** Short commands that must succeed before `argv` starts (iptables: insert the TRACE rules). */
  setup: string[][];
  /** The long-running command: bounded by `timeout` and the tool's own limit. */
  argv: string[];
  ready: Readiness;
  /** Kills `argv` on the remote side; closing the exec stream alone would leave it running. */
  stop: string[];
  /** Short commands that always run at the end, whatever happened (iptables: delete the rules). */
  teardown: string[][];
  /** pcap: binary stdout for the pcap decoder; text: lines for the format's parser. */
  output: 'pcap' | 'text';
  format: 'pcap' | 'monitor' | 'pwru' | 'iptables' | 'hubble';
  /** Bytes of stdout kept; past this the probe is stopped and its output marked partial. */
  maxBytes: number;
}

/** Readiness: a line the tool prints once it is attached, or, for a silent tool, a settle time without dying. */
export type Readiness = { kind: 'marker'; text: string } | { kind: 'settle'; ms: number };

/** CommandContext: what the probes need besides the plan. */
export interface CommandContext {
  runId: string;
  /** Seconds a long-running command may live: the backstop when the client vanishes. */
  lifetimeS: number;
  /** tcpdump -c. */
  maxCapturePackets: number;
  /** pwru --output-limit-lines. */
  pwruMaxLines: number;
  /** Which functions pwru attaches to (default: the ones the report reads). */
  pwruFunctions?: 'rules' | 'all';
  probePod(node: string, role: ProbePodRole): PodHandle | undefined;
  agent(node: string): (PodHandle & { cli: string }) | undefined;
}

/** PROBE_CONTAINER: the container name of our probe pods. */
export const PROBE_CONTAINER = 'probe';

/** Where pidfiles go: /tmp exists and is writable in the probe, agent and almost every app image. */
export const PIDFILE_DIR = '/tmp';
export const PIDFILE_PREFIX = 'kubectl-datapath-';

/** pidfilePath: one per probe and run, so `cleanup` can find what an interrupted run left. */
export function pidfilePath(runId: string, probeId: string): string {
  return `${PIDFILE_DIR}/${PIDFILE_PREFIX}${runId}-${probeId}.pid`;
}

/**
 * The script is constant and takes its inputs as positional parameters ($0 is the pidfile, "$@"
 * the command), so nothing the user gave is ever parsed by a shell. `exec` keeps the pid: the
 * pidfile names the command itself (timeout), which passes a TERM on to the tool.
 */
/**
 * A process's start time (field 22 of /proc/PID/stat, in clock ticks since boot; it survives exec),
 * read from what follows the `(comm)` field, which may hold spaces: with the PID it names the
 * process we started, where the PID alone may by now be another's (PIDs are reused, in hostPID
 * pods among all the node's processes). Pure sh, no cut or awk: images differ in their tools.
 */
const START_TIME = 'st() { [ -r "/proc/$1/stat" ] || return 0; read -r s < "/proc/$1/stat"; set -- ${s##*) }; echo "${20}"; };';
/** The wrapper: the pidfile holds `PID STARTTIME` of the shell that then becomes the tool. */
const WRITE_PIDFILE_AND_EXEC = `${START_TIME} echo "$$ $(st $$)" > "$0" && exec "$@"`;
/** Kills the process a pidfile names when it is still the one started ($1 the pidfile); removes the pidfile; says `killed` when it killed. */
const KILL_IF_SAME = `${START_TIME} k() { read -r pid start < "$1" || true; if [ -n "$start" ] && [ "$(st "$pid")" = "$start" ] && kill -TERM "$pid" 2>/dev/null; then echo killed; fi; rm -f "$1"; };`;
/** Kills what each pidfile names ($0 and the rest), removing the pidfiles; one exec stops the probes of a container. */
const KILL_BY_PIDFILES = `${KILL_IF_SAME} set -- "$0" "$@"; for f; do if [ -f "$f" ]; then k "$f" >/dev/null; fi; done; exit 0`;
/** Every pidfile of every run: what `cleanup` kills; prints the pidfiles whose process it killed (stale ones are only removed). */
const KILL_ALL_PIDFILES = `${KILL_IF_SAME} for f in "$0"*.pid; do [ -f "$f" ] || continue; if [ "$(k "$f")" = killed ]; then echo "$f"; fi; done; exit 0`;

/** withPidfile wraps argv so the remote process records its pid before it becomes the tool. */
export function withPidfile(pidfile: string, argv: string[]): string[] {
  return ['sh', '-c', WRITE_PIDFILE_AND_EXEC, pidfile, ...argv];
}

/** killByPidfileArgv: the stop command of a probe started withPidfile (or of several, in one container). */
export function killByPidfileArgv(...pidfiles: [string, ...string[]]): string[] {
  return ['sh', '-c', KILL_BY_PIDFILES, ...pidfiles];
}

/**
 * mergeStops: one command doing what these stop commands of one container do, when each kills by
 * pidfile; undefined otherwise (each must then run on its own).
 */
export function mergeStops(stops: readonly (readonly string[])[]): string[] | undefined {
  if (stops.length === 0 || !stops.every((s) => s.length > 3 && s[0] === 'sh' && s[1] === '-c' && s[2] === KILL_BY_PIDFILES)) return undefined;
  return ['sh', '-c', KILL_BY_PIDFILES, ...stops.flatMap((s) => s.slice(3))];
}

/** killAllPidfilesArgv: kills whatever any run (or the one run) left running in a container; prints the pidfiles it used. */
export function killAllPidfilesArgv(runId?: string): string[] {
  return ['sh', '-c', KILL_ALL_PIDFILES, `${PIDFILE_DIR}/${PIDFILE_PREFIX}${runId ? `${runId}-` : ''}`];
}

/** commandName: the tool an argv runs, past our pidfile wrapper, `timeout N` and `nsenter --net=...`. */
export function commandName(argv: readonly string[]): string {
  let a = argv;
  if (a[0] === 'sh' && a[1] === '-c' && a[2] === WRITE_PIDFILE_AND_EXEC) a = a.slice(4);
  if (a[0] === 'timeout') a = a.slice(2);
  if (a[0] === 'nsenter') a = a.slice(a.findIndex((w, i) => i > 0 && !w.startsWith('-')));
  // A constant script run by `sh -c SCRIPT NAME ARGS...` is named by its $0 (the traffic's nc, the hubble probe).
  if (a[0] === 'sh' && a[1] === '-c' && a.length > 3) a = a.slice(3);
  return a[0] ?? '';
}

/** bounded prefixes argv with `timeout N` so a lost client cannot orphan it (cilium-cli sniffer). */
export function bounded(seconds: number, argv: string[]): string[] {
  return ['timeout', String(Math.max(1, Math.ceil(seconds))), ...argv];
}

/** targetOf: where a probe's commands run. */
export function targetOf(probe: PlannedProbe, ctx: CommandContext): PodHandle | undefined {
  switch (probe.place.kind) {
    case 'probe-pod': {
      const pod = ctx.probePod(probe.place.node, probe.place.role);
      return pod ? { container: PROBE_CONTAINER, ...pod } : undefined;
    }
    case 'agent':
      return ctx.agent(probe.place.node);
    case 'app-pod':
      return { namespace: probe.place.namespace, name: probe.place.name, container: probe.place.container };
  }
}

/**
 * textProbeCommand: a tool that runs until stopped in the probe's place, printing text, ready on
 * a marker line; bounded by `timeout` and stopped by its pidfile.
 */
export function textProbeCommand(
  probe: PlannedProbe,
  ctx: CommandContext,
  tool: { argv: string[]; ready: string; format: ProbeCommand['format']; maxBytes: number },
): ProbeCommand | undefined {
  const target = targetOf(probe, ctx);
  if (!target) return undefined;
  const pidfile = pidfilePath(ctx.runId, probe.id);
  return {
    probe,
    target,
    setup: [],
    argv: withPidfile(pidfile, bounded(ctx.lifetimeS, tool.argv)),
    ready: { kind: 'marker', text: tool.ready },
    stop: killByPidfileArgv(pidfile),
    teardown: [],
    output: 'text',
    format: tool.format,
    maxBytes: tool.maxBytes,
  };
}
