import type { PlannedProbe } from '../core/plan.js';
import { netnsPath } from './discovery.js';
import { bounded, killByPidfileArgv, pidfilePath, targetOf, withPidfile, type CommandContext, type ProbeCommand } from './probe-command.js';

/** Snap length: headers up to the inner transport of a VXLAN/Geneve packet fit; payload is not needed. */
export const TCPDUMP_SNAPLEN = 256;
/** tcpdump prints this on stderr once the capture is attached (`tcpdump: listening on lxc12, link-type ...`). */
export const TCPDUMP_READY = 'listening on';
const PCAP_RECORD_OVERHEAD = 16;
const PCAP_HEADER = 24;

/**
 * tcpdumpArgv: a streaming pcap capture. `-w - -U` writes each packet to stdout as it comes (the
 * pcap decoder reads it live); `--immediate-mode` hands packets over without waiting for the ring
 * buffer to fill, else the last ones are lost when tcpdump is stopped; `-c` bounds it.
 */
export function tcpdumpArgv(iface: string, maxPackets: number, filter: readonly string[]): string[] {
  return ['tcpdump', '-i', iface, '-n', '-w', '-', '-U', '--immediate-mode', '-s', String(TCPDUMP_SNAPLEN), '-c', String(maxPackets), ...filter];
}

/** tcpdumpCommand: the command of a planned tcpdump probe, entering the pod's netns first when it has one. */
export function tcpdumpCommand(probe: PlannedProbe, ctx: CommandContext): ProbeCommand | undefined {
  const target = targetOf(probe, ctx);
  if (!target || !probe.iface) return undefined;
  const pidfile = pidfilePath(ctx.runId, probe.id);
  const capture = tcpdumpArgv(probe.iface, ctx.maxCapturePackets, probe.filter);
  const entered = probe.netns ? ['nsenter', `--net=${netnsPath(probe.netns)}`, ...capture] : capture;
  return {
    probe,
    target,
    setup: [],
    argv: withPidfile(pidfile, bounded(ctx.lifetimeS, entered)),
    ready: { kind: 'marker', text: TCPDUMP_READY },
    stop: killByPidfileArgv(pidfile),
    teardown: [],
    output: 'pcap',
    format: 'pcap',
    maxBytes: PCAP_HEADER + ctx.maxCapturePackets * (TCPDUMP_SNAPLEN + PCAP_RECORD_OVERHEAD),
  };
}
