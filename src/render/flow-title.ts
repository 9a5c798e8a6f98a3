import type { ReportFlow } from '../core/model/report.js';

/** flowNodes says where a flow ran: `bpf1` on one node, `bpf1 -> bpf2` across nodes, '' when unknown. */
export function flowNodes(flow: ReportFlow): string {
  const { srcNode, dstNode } = flow;
  if (srcNode === null && dstNode === null) return '';
  if (srcNode === dstNode) return srcNode ?? '';
  return `${srcNode ?? '?'} -> ${dstNode ?? '?'}`;
}

/** flowTitle names a flow in one line: `ICMP 10.0.1.135 (default/same) -> 10.0.1.180 (default/cni-6vf5d), request, bpf1`. */
export function flowTitle(flow: ReportFlow): string {
  const nodes = flowNodes(flow);
  const title = `${flow.protocol.toUpperCase()} ${flow.src} -> ${flow.dst}, ${flow.direction}`;
  return nodes === '' ? title : `${title}, ${nodes}`;
}

/** verdictText says what happened to a flow: `delivered`, `dropped at cilium:bpf2/1456 (Policy denied)`. */
export function verdictText(flow: ReportFlow): string {
  let text: string = flow.verdict;
  if (flow.dropPoint !== null) text += ` at ${flow.dropPoint}`;
  if (flow.dropReason !== null) text += ` (${flow.dropReason})`;
  return text;
}
