import { analyze, type AnalyzeRequest } from '../../../../src/app/analyze.js';
import { fileCatalog } from '../../../../src/adapters/files.js';
import type { HopReport, ReportFlow } from '../../../../src/core/model/report.js';

/** analyzeFixtures: the report `kubectl datapath analyze` gives for these files, as a user would run it. */
export async function analyzeFixtures(paths: string[], extra: Partial<AnalyzeRequest> = {}): Promise<HopReport> {
  return analyze({ paths, points: [], endpointFiles: [], maxPackets: 10, ...extra }, fileCatalog);
}

/** The conclusion of a flow, as a whole: what the rules decided and why, without the hop detail. */
export function conclusionOf(flow: ReportFlow) {
  return {
    flow: `${flow.protocol} ${flow.src} -> ${flow.dst} ${flow.direction}`,
    path: flow.path,
    verdict: flow.verdict,
    dropReason: flow.dropReason,
    dropPoint: flow.dropPoint,
    seenAt: flow.seenAt,
    notSeenAt: flow.notSeenAt,
    notObserved: flow.notObserved,
    conclusions: flow.conclusions,
    evidence: flow.evidence,
  };
}
