import { analyze } from '../../src/app/analyze.js';
import { fileCatalog } from '../../src/adapters/files.js';
import type { HopReport, ReportFlow } from '../../src/core/model/report.js';

/** analyze() on fixture files as a user would run it: no points, no endpoint files, 10 packets per flow. */
export async function analyzeFiles(...paths: string[]): Promise<HopReport> {
  return analyze({ paths, points: [], endpointFiles: [], maxPackets: 10 }, fileCatalog);
}

/** The points of every hop of a flow, packet by packet: where each packet was seen. */
export function hopPoints(flow: ReportFlow): string[][] {
  return flow.packets.map((p) => p.hops.map((h) => `${h.point} ${h.tool}: ${h.detail}`));
}
