import { join } from 'node:path';
import { FlowAccumulator, type StreamInfo } from '../../src/core/correlate/accumulator.js';
import { buildReport } from '../../src/core/correlate/build-report.js';
import type { PolicyInputs } from '../../src/core/correlate/policy-explain.js';
import { streamParserFor } from '../../src/core/analyze/formats.js';
import type { ProbeEvent, Tool } from '../../src/core/model/event.js';
import type { InputFormat } from '../../src/core/analyze/detect.js';
import type { HopReport, ReportEndpoint, ReportInput } from '../../src/core/model/report.js';
import { readFixture } from './fixtures.js';

/** One fixture file of a capture set and where it was taken. */
export interface FixtureStream {
  file: string;
  tool: Tool & InputFormat;
  point?: string;
  node?: string;
}

/**
 * reportOfFixtures builds the report of a set of fixture files the way analyze does (each file
 * through its tool's parser into one accumulator), with the endpoints the capture set describes:
 * a core-level view that needs no Cilium endpoint file for captures made outside a cluster.
 */
export function reportOfFixtures(dir: string, files: FixtureStream[], endpoints: ReportEndpoint[], maxPackets = 10, policies?: PolicyInputs): HopReport {
  const acc = new FlowAccumulator(maxPackets);
  const streams: StreamInfo[] = [];
  const inputs: ReportInput[] = [];
  files.forEach((f, index) => {
    const stream: StreamInfo = { index, name: f.file, tool: f.tool, point: f.point, node: f.node };
    streams.push(stream);
    const parser = streamParserFor(f.tool);
    let ctx = parser.initial();
    let pending: ProbeEvent | undefined;
    let understood = 0;
    let notUnderstood = 0;
    const { body } = readFixture(join(dir, f.file));
    for (const line of body) {
      if (!line.trim()) continue;
      const { result, ctx: next } = parser.parse(line, ctx);
      ctx = next;
      if (result.kind === 'event') {
        if (pending) acc.add(stream, pending);
        pending = result.event;
        understood++;
      } else if (result.kind === 'amend') {
        pending = result.event;
        understood++;
      } else if (result.kind === 'unparsed') notUnderstood++;
      else understood++;
    }
    if (pending) acc.add(stream, pending);
    inputs.push({ name: f.file, tool: f.tool, point: f.point ?? '', node: f.node ?? '', lines: understood + notUnderstood, understood, notUnderstood, status: 'ok' });
  });
  return buildReport(acc, { streams, inputs, endpoints, warnings: [], ...(policies ? { policies } : {}) });
}
