/**
 * EMULATED pwru v1.0.9 of the datapath lab. Not the real binary (this kernel has no kprobes):
 * it loads lab-skbtrace, which records every skb of this node's network namespaces (the node's
 * and its pods') at the kernel's skb tracepoints, merges those records with the lab datapath's
 * tc verdicts, and prints the functions the packets really went through (see pwru/path.ts:
 * observed points plus the functions between them that the observed path implies) in pwru's
 * v1.0.9 format. Reads LAB_STATE and LAB_NODE like the emulated agent CLI.
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ARTIFACTS } from '../kernel/compile.js';
import { labPaths } from '../kernel/paths.js';
import { tryRun } from '../kernel/run.js';
import { followEvents, type DatapathEvent } from './datapath-events.js';
import { nodeContext, NoLabError, type NodeContext } from './lab-context.js';
import { FlagError, parsePwruFlags, USAGE, type PwruFlags } from './pwru/flags.js';
import { PwruPrinter } from './pwru/output.js';
import { skbLines, type FuncLine, type PathContext } from './pwru/path.js';
import { compileFilter, FilterError } from './pwru/pcap-filter.js';
import { parseSkbLine, SKB, tupleOf, type SkbEvent } from './pwru/skb-event.js';
import { latencyProfile } from '../latency.js';

const VERSION = 'v1.0.9';
/** How long records wait so that both streams (tracepoints, datapath) have delivered a packet's records. */
const SETTLE_MS = 300;

function goLog(msg: string): void {
  const d = new Date();
  const p = (n: number): string => String(n).padStart(2, '0');
  process.stderr.write(`${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${msg}\n`);
}

/** pb/v3's default bar, as pwru prints it while attaching and detaching. */
function progressBar(n: number): string {
  const head = `${n} / ${n} [`;
  const tail = '] 100.00% ? p/s';
  return `${head}${'-'.repeat(Math.max(10, 100 - head.length - tail.length))}${tail}`;
}

/** Network namespaces pwru on this node sees: the node's and its pods'. */
function watchedNetns(ctx: NodeContext, flags: PwruFlags): { inodes: number[]; names: Map<number, string> } {
  const names = new Map<number, string>();
  names.set(ctx.kernel.nodes[ctx.node.name].netnsInode, ctx.node.netns);
  for (const pod of ctx.pods) {
    const k = ctx.kernel.pods[`${pod.namespace}/${pod.name}`];
    if (k && pod.netns) names.set(k.netnsInode, pod.netns);
  }
  let inodes = [...names.keys()];
  if (flags.filterNetns) {
    const m = /^inode:(\d+)$/.exec(flags.filterNetns);
    if (!m) throw new FlagError(`--filter-netns ${flags.filterNetns}: only inode:<inode> is emulated`);
    inodes = inodes.filter((i) => i === Number(m[1]));
  }
  return { inodes, names };
}

function main(): void {
  let flags: PwruFlags;
  try {
    flags = parsePwruFlags(process.argv.slice(2));
  } catch (err) {
    if (err instanceof FlagError) {
      process.stderr.write(`${err.message}\n${USAGE}`);
      process.exit(2);
    }
    throw err;
  }
  if (flags.help) {
    process.stderr.write(USAGE);
    process.exit(0);
  }
  if (flags.version) {
    process.stdout.write(`pwru ${VERSION}\n`);
    process.exit(0);
  }
  const ctx = nodeContext();
  let filter: ReturnType<typeof compileFilter>;
  let funcFilter: RegExp | undefined;
  try {
    filter = compileFilter(flags.pcap);
    funcFilter = flags.filterFunc ? new RegExp(flags.filterFunc) : undefined;
  } catch (err) {
    if (err instanceof FilterError) {
      goLog(`Failed to compile pcap filter: ${err.message}`);
      process.exit(1);
    }
    if (err instanceof SyntaxError) {
      goLog(`Failed to get skb-accepting functions: failed to compile regular expression ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  /** pwru's GetFuncs keeps a function when the regexp's leftmost match is its whole name (internal/pwru/utils.go). */
  const probed = (func: string): boolean => {
    if (!funcFilter) return true;
    const m = funcFilter.exec(func);
    return m !== null && m.index === 0 && m[0] === func;
  };
  const latency = latencyProfile(ctx.state.latency);
  const attachStarted = performance.now();
  let attachedAt = attachStarted;
  const { inodes, names } = watchedNetns(ctx, flags);
  const bin = labPaths(dirname(ctx.statePath)).bin;
  const netfilter = new Set<number>();
  // Which netns have netfilter rules (nf_hook_slow runs there). Run as a probe pod's command, this
  // sees what its spec lets it: its own netns (the node's, hostNetwork), and pods' netns only
  // through a /run/netns it can read; a netns it cannot enter is taken to have none (the lab's
  // pods have no rules).
  const ownNetns = statSync('/proc/self/ns/net').ino;
  for (const [inode, netns] of names) {
    const dir = ['/run/netns', '/proc/1/root/run/netns'].find((d) => existsSync(`${d}/${netns}`));
    const save = inode === ownNetns ? tryRun('/usr/sbin/iptables-save', []) : dir ? tryRun('/usr/bin/nsenter', [`--net=${dir}/${netns}`, '/usr/sbin/iptables-save']) : undefined;
    if (save && /\n-A |^\*/m.test(save.stdout)) netfilter.add(inode);
  }
  const { netnsInode: nodeNetns, underlayIfindex } = ctx.kernel.nodes[ctx.node.name];
  const pathCtx: PathContext = {
    nodeNetns,
    hasNetfilter: (n) => netfilter.has(n),
    deviceKind: (name) => (name === 'cilium_vxlan' ? 'vxlan' : /^(lxc|eth0$|ens33$|cilium_host$|cilium_net$)/.test(name) ? 'veth' : 'other'),
    // The wire: on a real node the NIC driver frees the skb after transmission; in the lab that
    // free happens in the peer node's netns, which this node's tracer does not see.
    handsToWire: (e) => (e.kind === SKB.DEV_START_XMIT || e.kind === SKB.DEV_XMIT) && e.netns === nodeNetns && e.ifindex === underlayIfindex,
    dropReasons: {},
    routeLookup: (netns, cpu, saddr, daddr, after, before) =>
      routeLookups.find(({ e }) => e.netns === netns && e.cpu === cpu && e.ts > after && e.ts < before && tupleOf(e).saddr === saddr && tupleOf(e).daddr === daddr)?.e,
    peerNetns: (ifindex) => {
      const pod = ctx.pods.find((p) => p.lxc?.ifindex === ifindex);
      return pod ? ctx.kernel.pods[`${pod.namespace}/${pod.name}`]?.netnsInode : undefined;
    },
  };
  const printer = new PwruPrinter({ timestamp: flags.timestamp, meta: flags.outputMeta, tuple: flags.outputTuple });
  goLog('Attaching kprobes (via kprobe-multi)...');
  const tracer = spawn(join(bin, ARTIFACTS.skbtrace), ['--obj', join(bin, ARTIFACTS.skbtraceObj), '--netns', inodes.join(',') || '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let funcs = 0;
  let printed = 0;
  let listening = false;
  const pending: { e: SkbEvent; arrived: number }[] = [];
  let verdicts: { e: DatapathEvent; arrived: number }[] = [];
  // Route lookups (fib_table_lookup) carry no skb: they are evidence for the skbs' lines, never lines of their own.
  let routeLookups: { e: SkbEvent; arrived: number }[] = [];
  const lastEvent = new Map<string, SkbEvent>();
  const tracked = new Set<string>();
  let stopFollowing: (() => void) | undefined;

  const exit = (signal: boolean): void => {
    stopFollowing?.();
    tracer.kill('SIGTERM');
    goLog(signal ? 'Received signal, exiting program..' : `Printed ${flags.outputLimitLines} events, exiting program..`);
    goLog('Detaching kprobes...');
    process.stderr.write(`${progressBar(funcs)}\n`);
    process.exit(0);
  };

  /** pwru's handle_everything: a tracked skb is printed whatever the filters (pcap, mark, ifname) say. */
  const selected = (line: FuncLine): boolean => {
    if (!probed(line.func.replace(/[( ].*$/, ''))) return false;
    if (flags.filterTrackSkb && tracked.has(line.skb)) return true;
    if (flags.filterMark !== undefined && line.mark !== flags.filterMark) return false;
    if (flags.filterIfname !== undefined && line.ifname !== flags.filterIfname) return false;
    if (!filter({ ethertype: line.packet.proto, tuple: line.tuple })) return false;
    if (flags.filterTrackSkb) tracked.add(line.skb);
    return true;
  };

  const emit = (line: FuncLine): void => {
    const print = selected(line);
    // Real pwru forgets an address in its kprobe on kfree_skbmem (whatever --filter-func says),
    // after printing that call: the slab hands the address to the next skb, a different packet.
    if (line.endsLife) tracked.delete(line.skb);
    if (!print) return;
    process.stdout.write(`${flags.outputJson ? printer.json(line) : printer.line(line)}\n`);
    printed++;
    if (flags.outputLimitLines > 0 && printed >= flags.outputLimitLines) exit(false);
  };

  /** Prints the records that have settled (all of them when the tracer has ended). */
  const flush = (all = false): void => {
    const now = all ? Infinity : Date.now();
    const ready = pending.filter((p) => p.arrived <= now - SETTLE_MS);
    if (ready.length === 0) return;
    const later = pending.filter((p) => p.arrived > now - SETTLE_MS);
    pending.length = 0;
    pending.push(...later);
    const bySkb = new Map<string, SkbEvent[]>();
    for (const { e } of ready.sort((a, b) => a.e.ts - b.e.ts)) bySkb.set(e.skb, [...(bySkb.get(e.skb) ?? []), e]);
    const lines: FuncLine[] = [];
    const dp = verdicts.map((v) => v.e);
    for (const [skb, events] of bySkb) {
      const after = later.map((p) => p.e).filter((e) => e.skb === skb).sort((a, b) => a.ts - b.ts)[0];
      lines.push(...skbLines(events, lastEvent.get(skb), after, dp, pathCtx));
      lastEvent.set(skb, events[events.length - 1]);
    }
    for (const line of lines.sort((a, b) => a.ts - b.ts)) emit(line);
    verdicts = verdicts.filter((v) => v.arrived > now - 10 * SETTLE_MS);
    routeLookups = routeLookups.filter((v) => v.arrived > now - 10 * SETTLE_MS);
  };

  let rest = '';
  tracer.stdout.on('data', (chunk: Buffer) => {
    rest += chunk.toString('utf8');
    const lines = rest.split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      const e = parseSkbLine(line);
      if (e) {
        if (!listening) continue;
        if (e.kind === SKB.FIB_LOOKUP) {
          routeLookups.push({ e, arrived: Date.now() });
          continue;
        }
        printer.remember(e.pid, e.exe);
        pending.push({ e, arrived: Date.now() });
        continue;
      }
      if (line.startsWith('{"kind":"meta"')) {
        const meta = JSON.parse(line) as { skbFuncs: number; skbFuncNames?: string[]; reasons: Record<string, string> };
        pathCtx.dropReasons = meta.reasons;
        funcs = meta.skbFuncNames ? meta.skbFuncNames.filter(probed).length : meta.skbFuncs;
        if (funcs === 0 && funcFilter) {
          goLog('Failed to get skb-accepting functions: cannot find a matching kernel function');
          tracer.kill('SIGTERM');
          process.exit(1);
        }
        // The latency model: a real pwru's attaching takes time in proportion to the functions it probes.
        attachedAt = attachStarted + funcs * latency.pwruAttachMsPerFunction;
      } else if (line === '{"kind":"attached"}') {
        setTimeout(onAttached, Math.max(0, attachedAt - performance.now()));
      }
    }
  });
  const onAttached = (): void => {
    if (draining) return;
    process.stderr.write(`${progressBar(funcs)}\n`);
    goLog('Attached (ignored 0)');
    stopFollowing = followEvents(labPaths(dirname(ctx.statePath)).eventsOf(ctx.node.name), (v) => {
      if (v.kind === 'verdict') verdicts.push({ e: v, arrived: Date.now() });
    });
    goLog('Listening for events..');
    if (flags.readyFile) writeFileSync(flags.readyFile, '');
    if (!flags.outputJson) process.stdout.write(`${printer.header()}\n`);
    listening = true;
    setInterval(() => flush(), 100);
  };
  tracer.on('exit', (code) => {
    if (!listening) {
      goLog(`Failed to load objects: lab-skbtrace exited with ${code}`);
      process.exit(1);
    }
  });
  // Real pwru prints each event as it reads it from its ring buffer; this one holds records
  // SETTLE_MS to merge its two streams. So that a signal loses no more than it would lose the
  // real one, the tracer is ended first and read to its end, the datapath's verdicts so far are
  // read, every held record is printed, and then it exits as pwru does.
  let draining = false;
  const drainThenExit = (): void => {
    if (draining) return;
    draining = true;
    if (!listening) return exit(true);
    let finishing = false;
    const finish = (): void => {
      if (finishing) return;
      finishing = true;
      clearTimeout(timer);
      // The agent writes the datapath's verdicts from its own ring buffer: give a loaded machine
      // a moment to write those of the last packets before they are read for the last time.
      setTimeout(() => {
        stopFollowing?.();
        stopFollowing = undefined;
        flush(true);
        exit(true);
      }, 200);
    };
    const timer = setTimeout(finish, 1000);
    if (tracer.stdout.readableEnded || tracer.exitCode !== null) return finish();
    tracer.stdout.once('end', finish);
    tracer.kill('SIGTERM');
  };
  process.on('SIGINT', drainThenExit);
  process.on('SIGTERM', drainThenExit);
  process.stdout.on('error', () => exit(true));
}

try {
  main();
} catch (err) {
  if (err instanceof NoLabError) {
    process.stderr.write(`pwru: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
