/**
 * `cilium-dbg monitor` for one lab node: follows the node's datapath records and prints them
 * as cilium-dbg/cmd/monitor.go does, with the agent's event filters (--type, --from, --to,
 * --related-to) and the datapath's monitor aggregation (the lab datapath reports every
 * decision; what a real datapath would have suppressed under the configured aggregation level
 * is not printed). Runs until killed; SIGINT ends it the way the real command reports it.
 */
import { cpus } from 'node:os';
import { followEvents, OBS, type DatapathEvent } from '../datapath-events.js';
import type { NodeContext } from '../lab-context.js';
import type { MonitorAggregation } from '../../kernel/kernel-facts.js';
import { formatEvent, type MonitorFormatOptions, type Verbosity } from './monitor-format.js';
import { atLeast } from './version.js';
import { CliError } from './cli-error.js';
import { labPaths } from '../../kernel/paths.js';
import { dirname } from 'node:path';
import { latencyProfile } from '../../latency.js';

const TYPES = ['agent', 'capture', 'debug', 'drop', 'l7', 'policy-verdict', 'recorder', 'trace', 'trace-sock'];

export interface MonitorOptions {
  verbose: number;
  json: boolean;
  numeric: boolean;
  hex: boolean;
  types: string[];
  from: number[];
  to: number[];
  related: number[];
}

function uint16List(flag: string, value: string): number[] {
  return value.split(',').map((v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n > 65535) throw new CliError(`invalid argument "${value}" for "${flag}" flag: strconv.ParseUint: parsing "${v}": invalid syntax`);
    return n;
  });
}

/** Parses monitor's flags (pflag style: -v/-vv, --flag value, --flag=value). */
export function parseMonitorArgs(args: string[]): MonitorOptions {
  const o: MonitorOptions = { verbose: 0, json: false, numeric: false, hex: false, types: [], from: [], to: [], related: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (arg.startsWith('--') && eq > 0) return arg.slice(eq + 1);
      const v = args[++i];
      if (v === undefined) throw new CliError(`flag needs an argument: ${name}`);
      return v;
    };
    if (/^-v+$/.test(arg)) o.verbose += arg.length - 1;
    else if (name === '--verbose') o.verbose += 1;
    else if (name === '-j' || name === '--json') o.json = true;
    else if (name === '-n' || name === '--numeric') o.numeric = true;
    else if (name === '--hex') o.hex = true;
    else if (name === '-t' || name === '--type') {
      const t = value();
      if (!TYPES.includes(t)) throw new CliError(`invalid argument "${t}" for "-t, --type" flag: Unknown type (${t}). Please use one of the following ones [${TYPES.join(' ')}]`);
      o.types.push(t);
    } else if (name === '--from') o.from.push(...uint16List('--from', value()));
    else if (name === '--to') o.to.push(...uint16List('--to', value()));
    else if (name === '--related-to') o.related.push(...uint16List('--related-to', value()));
    else if (name === '--monitor-socket') value();
    else if (arg.startsWith('-')) throw new CliError(`unknown flag: ${name}`);
    else throw new CliError(`unknown command "${arg}" for "cilium-dbg monitor"`);
  }
  return o;
}

/** Whether the datapath would have emitted this trace under the aggregation level (Cilium's emit_trace_notify). */
export function emittedUnder(e: DatapathEvent, aggregation: MonitorAggregation): boolean {
  if (e.kind !== 'trace') return e.kind !== 'verdict';
  const fromPoint = e.sub === OBS.FROM_LXC || e.sub === OBS.FROM_OVERLAY || e.sub === OBS.FROM_NETWORK;
  if (aggregation === 'none') return true;
  if (fromPoint) return false;
  if (aggregation === 'low') return true;
  return e.monitor !== 0;
}

/** The agent's formatter filter (pkg/monitor/format match()). */
export function matchesFilters(e: DatapathEvent, o: MonitorOptions): boolean {
  const type = e.kind;
  // A policy verdict is matched by its endpoint only (its dstId carries the drop reason, policy.h).
  const dst = e.kind === 'debug' || e.kind === 'policy-verdict' ? 0 : e.dstId;
  if (o.types.length > 0 && !o.types.includes(type)) return false;
  if (o.from.length > 0 && !o.from.includes(e.source)) return false;
  if (o.to.length > 0 && !o.to.includes(dst)) return false;
  if (o.related.length > 0 && !o.related.includes(e.source) && !o.related.includes(dst)) return false;
  return true;
}

/** Interface names the node's agent knows, by ifindex. */
export function nodeIfnames(ctx: NodeContext): Map<number, string> {
  const names = new Map<number, string>();
  const k = ctx.kernel.nodes[ctx.node.name];
  names.set(k.underlayIfindex, ctx.node.underlayIf);
  if (k.vxlanIfindex !== undefined && ctx.node.vxlanIf) names.set(k.vxlanIfindex, ctx.node.vxlanIf);
  for (const p of ctx.pods) if (p.lxc) names.set(p.lxc.ifindex, p.lxc.name);
  return names;
}

function verbosityOf(o: MonitorOptions): Verbosity {
  if (o.json) return 'json';
  if (o.verbose >= 2) return 'verbose';
  if (o.verbose === 1) return 'debug';
  return 'info';
}

/** Runs the monitor until the process is killed. */
export function runMonitor(ctx: NodeContext, o: MonitorOptions): void {
  // The latency model: the real CLI connects to the agent's monitor socket before it listens.
  const connectMs = latencyProfile(ctx.state.latency).monitorConnectMs;
  if (connectMs > 0) setTimeout(() => follow(ctx, o), connectMs);
  else follow(ctx, o);
}

function follow(ctx: NodeContext, o: MonitorOptions): void {
  const format: MonitorFormatOptions = { version: ctx.state.ciliumVersion, verbosity: verbosityOf(o), numeric: o.numeric, hex: o.hex, ifnames: nodeIfnames(ctx) };
  let dissectionCache = false;
  const aggregation = ctx.kernel.monitorAggregation;
  // cilium_dbg() is compiled into the datapath only with the agent's Debug option (bpf/lib/dbg.h).
  const debug = ctx.kernel.datapathDebug === true;
  const stop = followEvents(labPaths(dirname(ctx.statePath)).eventsOf(ctx.node.name), (e) => {
    if ((e.kind === 'debug' && !debug) || !emittedUnder(e, aggregation) || !matchesFilters(e, o)) return;
    const lines = formatEvent(e, format);
    if (lines.length === 0) return;
    if (!dissectionCache && e.kind !== 'debug' && format.verbosity !== 'json') {
      dissectionCache = true;
      process.stderr.write(
        atLeast(ctx.state.ciliumVersion, 1, 18)
          ? `time=${new Date().toISOString()} level=info msg="Initializing dissection cache..."\n`
          : 'level=info msg="Initializing dissection cache..." subsys=monitor\n',
      );
    }
    process.stdout.write(lines.join('\n') + '\n');
  });
  // Announced once it follows the events (as the real CLI, connected to the agent first): a
  // caller that starts traffic on this line must not race the start of the following.
  process.stderr.write(`Listening for events on ${cpus().length} CPUs with 64x4096 of shared memory\nPress Ctrl-C to quit\n`);
  process.on('SIGINT', () => {
    stop();
    process.stderr.write('\nReceived an interrupt, disconnecting from monitor...\n\n');
    process.exit(0);
  });
  // SIGTERM ends the real CLI at once, without a farewell, having printed every event the agent
  // had sent it; here the events the datapath wrote before the signal are printed first, then it
  // dies of the signal as the real one does.
  process.once('SIGTERM', () => {
    stop();
    process.stdout.write('', () => process.kill(process.pid, 'SIGTERM'));
  });
  process.stdout.on('error', () => process.exit(0));
}
