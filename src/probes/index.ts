import type { PlannedProbe } from '../core/plan.js';
import { monitorCommand } from './cilium-monitor.js';
import { hubbleCommand } from './hubble.js';
import { iptablesTraceCommand } from './iptables-trace.js';
import type { CommandContext, ProbeCommand } from './probe-command.js';
import { pwruCommand } from './pwru.js';
import { tcpdumpCommand } from './tcpdump.js';

/** commandFor: the command of a planned probe; undefined when its place has no pod to run in. */
export function commandFor(probe: PlannedProbe, ctx: CommandContext): ProbeCommand | undefined {
  switch (probe.tool) {
    case 'tcpdump':
      return tcpdumpCommand(probe, ctx);
    case 'monitor':
      return monitorCommand(probe, ctx);
    case 'pwru':
      return pwruCommand(probe, ctx);
    case 'iptables':
      return iptablesTraceCommand(probe, ctx);
    case 'hubble':
      return hubbleCommand(probe, ctx);
  }
}
