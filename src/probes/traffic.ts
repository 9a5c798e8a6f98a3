import type { Traffic } from '../core/plan.js';
import { netnsPath } from './discovery.js';

/** TrafficCommand: the commands that make the traffic, run one after the other from SRC's netns. */
export interface TrafficCommand {
  /** The tool the image must have. */
  tool: 'ping' | 'nc';
  runs: string[][];
  /** How long all runs may take before they are cancelled. */
  budgetMs: number;
}

/** Seconds nc waits for a connection or an answer. */
const NC_WAIT_S = 2;
const PING_INTERVAL_S = 0.2;
const PING_WAIT_S = 1;

/**
 * trafficCommand: `ping -c N` for icmp (bounded by count and -W), `nc -z` per connection for
 * tcp/udp (bounded by -w). bash's /dev/tcp would need the address inside a script, so it is not
 * used. undefined for `none`.
 */
export function trafficCommand(traffic: Traffic, dst: string, count: number): TrafficCommand | undefined {
  switch (traffic.kind) {
    case 'none':
      return undefined;
    case 'icmp':
      return {
        tool: 'ping',
        runs: [['ping', '-n', '-c', String(count), '-i', String(PING_INTERVAL_S), '-W', String(PING_WAIT_S), dst]],
        budgetMs: Math.ceil((count * PING_INTERVAL_S + PING_WAIT_S + 5) * 1000),
      };
    case 'tcp':
    case 'udp': {
      const udp = traffic.kind === 'udp' ? ['-u'] : [];
      const one = ['nc', ...udp, '-z', '-w', String(NC_WAIT_S), dst, String(traffic.port)];
      return { tool: 'nc', runs: Array.from({ length: count }, () => one), budgetMs: count * (NC_WAIT_S + 3) * 1000 };
    }
  }
}

/** fromNetns runs a traffic command inside a pod's netns, from a probe pod on the same node. */
export function fromNetns(netns: string, argv: string[]): string[] {
  return ['nsenter', `--net=${netnsPath(netns)}`, ...argv];
}

/** describeTraffic: `icmp`, `tcp:80`, for messages. */
export function describeTraffic(traffic: Traffic): string {
  return traffic.kind === 'tcp' || traffic.kind === 'udp' ? `${traffic.kind}:${traffic.port}` : traffic.kind;
}
