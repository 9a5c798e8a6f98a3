import type { EndpointInfo } from '../model/endpoint.js';
import type { ProbeEvent } from '../model/event.js';
import type { CiliumStatus } from '../model/status.js';
import { parseEndpointGetJson, parseEndpointListTable, parseCiliumEndpointObjects, endpointInfoFromListRow } from '../parse/cilium-endpoint.js';
import { monitorParser } from '../parse/cilium-monitor.js';
import { splitMonitorRecords } from '../parse/cilium-monitor-split.js';
import { parseCepTable } from '../parse/cilium-endpoint-table.js';
import { parseLbState } from '../parse/cilium-lb.js';
import { parsePolicyGet } from '../parse/cilium-policy.js';
import type { PolicyState } from '../model/policy.js';
import type { LbState } from '../model/lb-state.js';
import { parseCiliumStatusJson, parseCiliumStatusText } from '../parse/cilium-status.js';
import { parseEthtoolOutput, type EthtoolResult } from '../parse/ethtool.js';
import { hubbleParser } from '../parse/hubble.js';
import { iptablesTraceParser } from '../parse/iptables-trace.js';
import { pwruParser } from '../parse/pwru.js';
import type { Parsed } from '../parse/result.js';
import { tcpdumpParser } from '../parse/tcpdump.js';
import { withoutLeadingComments, type InputFormat } from './detect.js';

/** StreamParser: a LineParser with its context type erased, so one loop can drive any of them. */
export interface StreamParser {
  initial: () => unknown;
  parse: (line: string, ctx: unknown) => Parsed<unknown, ProbeEvent>;
  /** Cuts a line it could not read into the records a pasted transcript joined on it, if any. */
  split?: (line: string) => string[];
}

const MONITOR: StreamParser = { ...(monitorParser as unknown as StreamParser), split: splitMonitorRecords };

/** streamParserFor names the line parser of an event-stream format (not pcap: that one is binary). */
export function streamParserFor(format: InputFormat): StreamParser {
  switch (format) {
    case 'monitor':
      return MONITOR;
    case 'pwru':
      return pwruParser as unknown as StreamParser;
    case 'iptables':
      return iptablesTraceParser as unknown as StreamParser;
    case 'hubble':
      return hubbleParser as unknown as StreamParser;
    default:
      return tcpdumpParser as unknown as StreamParser;
  }
}

/** DataResult: what a whole-file data input (endpoint, status, ethtool) gave. */
export interface DataResult {
  lines: number;
  understood: number;
  unparsed: { line: number; text: string; reason: string }[];
  endpoints?: EndpointInfo[];
  status?: CiliumStatus;
  ethtool?: EthtoolResult;
  /** Service / bpf lb / ct / nat tables (model/lb-state.ts). */
  lbState?: LbState;
  /** `cilium policy get` rules (model/policy.ts). */
  policy?: PolicyState;
  error?: string;
  warning?: string;
}

/** parseDataInput parses a whole data file by its detected format. */
export function parseDataInput(format: InputFormat, text: string): DataResult {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const nonEmpty = lines.filter((l) => l.trim() !== '').length;
  const done = (unparsed: { line: number; text: string; reason: string }[], extra: Partial<DataResult>): DataResult => ({
    lines: nonEmpty,
    understood: Math.max(0, nonEmpty - unparsed.length),
    unparsed,
    ...extra,
  });
  switch (format) {
    case 'endpoint-list': {
      const r = parseEndpointListTable(lines);
      return done(r.unparsed.map(toSample), { endpoints: r.rows.map(endpointInfoFromListRow) });
    }
    case 'endpoint-json': {
      const r = parseEndpointGetJson(withoutLeadingComments(text));
      return done([], { endpoints: r.endpoints, error: r.error });
    }
    case 'policy-get': {
      const r = parsePolicyGet(lines);
      return done(r.unparsed, r.state.rules.length ? { policy: r.state } : { error: 'no policy rule found' });
    }
    case 'lb-state': {
      const r = parseLbState(lines);
      const found = r.state.services.length + r.state.conntrack.length + r.state.nat.length;
      return done(r.unparsed, found ? { lbState: r.state } : { error: 'no service, lb, conntrack or NAT entry found' });
    }
    case 'cep-table': {
      const r = parseCepTable(lines);
      return done(r.unparsed, { endpoints: r.endpoints });
    }
    case 'cep-json': {
      const r = parseCiliumEndpointObjects(withoutLeadingComments(text));
      return done([], { endpoints: r.endpoints, error: r.error });
    }
    case 'status-text': {
      const r = parseCiliumStatusText(lines);
      return done(r.unparsed.map(toSample), { status: r.status ?? undefined, error: r.error });
    }
    case 'status-json': {
      const r = parseCiliumStatusJson(withoutLeadingComments(text));
      return done(r.unparsed.map(toSample), { status: r.status ?? undefined, error: r.error });
    }
    case 'ethtool': {
      const r = parseEthtoolOutput(lines);
      return done(r.unparsed.map(toSample), { ethtool: r });
    }
    case 'kubectl-table':
      return done([], { warning: 'kubectl tables are read for nothing yet: pods and nodes come from captures, endpoint data and --node' });
    default:
      return done([], { error: `${format} is not a data format` });
  }
}

function toSample(u: { line: number; text?: string; reason: string }): { line: number; text: string; reason: string } {
  return { line: u.line, text: u.text ?? '', reason: u.reason };
}
