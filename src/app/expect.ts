import type { HopReport, ReportFlow, ReportFlowEnd, Verdict } from '../core/model/report.js';
import type { PodRef } from './ports.js';

export type Expectation = 'delivered' | 'dropped';

/** tracedVerdict: the verdict of the traced request, SRC to DST, with the flows it rests on. */
export function tracedVerdict(report: HopReport, src: PodRef, dst: PodRef): { verdict: Verdict; flows: ReportFlow[] } {
  const is = (end: ReportFlowEnd | undefined, ref: PodRef) => end?.pod === ref.name && end.namespace === ref.namespace;
  const flows = report.flows.filter((f) => f.direction === 'request' && f.protocol !== 'arp' && is(f.source, src) && is(f.destination, dst));
  // One dropped connection or packet is a drop; delivered only when every request flow was
  // (a refused one reached its destination: classify counts it delivered); else lost, then unknown.
  const verdicts = new Set(flows.map((f) => f.verdict));
  const verdict: Verdict = verdicts.has('dropped') ? 'dropped' : verdicts.size === 1 && verdicts.has('delivered') ? 'delivered' : verdicts.has('lost') ? 'lost' : 'unknown';
  return { verdict, flows };
}

/** The one line `--expect` prints when the verdict differs, undefined when it is the one expected. */
export function expectationFailure(report: HopReport, src: PodRef, dst: PodRef, expected: Expectation): string | undefined {
  const { verdict, flows } = tracedVerdict(report, src, dst);
  if (verdict === expected) return undefined;
  const which = flows.length ? flows.map((f) => `${f.protocol} ${f.src} -> ${f.dst}: ${f.verdict}`).join('; ') : `no request from ${src.namespace}/${src.name} to ${dst.namespace}/${dst.name} in the report`;
  return `expected ${expected}, the trace says ${verdict} (${which})`;
}
