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

/** Seconds nc waits for a connection or an answer (TCP), for the answer to a datagram (UDP: it waits that long after it too). */
const NC_WAIT_S = 2;
const NC_UDP_WAIT_S = 1;
const PING_INTERVAL_S = 0.2;
const PING_WAIT_S = 1;

/**
 * What nc sends on each connection: for TCP a HEAD request (an HTTP server answers it and
 * closes; any other server gets a few bytes), then a half-close (`-N`), so the capture holds the
 * handshake, data both ways and the FINs; for UDP one datagram, whose answer nc waits for (-w).
 */
const TCP_PAYLOAD = 'HEAD / HTTP/1.0\\r\\n\\r\\n';
const UDP_PAYLOAD = 'kubectl-datapath\\n';
/** The shell around nc: the payload is fixed, the address and port are positional arguments, never parsed as script. */
const NC_SCRIPT = (payload: string, ncFlags: string, waitS: number): string => `printf '${payload}' | nc ${ncFlags} -w ${waitS} "$1" "$2"`;

/**
 * trafficCommand: `ping -c N` for icmp (bounded by count and -W); for tcp/udp one nc per
 * connection (netcat-openbsd's flags, as netshoot ships it), fed by printf through `sh -c` with
 * the address as an argument (argv, not interpolated), bounded by -w. undefined for `none`.
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
      const script = traffic.kind === 'tcp' ? NC_SCRIPT(TCP_PAYLOAD, '-N', NC_WAIT_S) : NC_SCRIPT(UDP_PAYLOAD, '-u', NC_UDP_WAIT_S);
      const one = ['sh', '-c', script, 'nc', dst, String(traffic.port)];
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
