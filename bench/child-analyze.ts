import { analyze } from '../src/app/analyze.js';
import { fileCatalog } from '../src/adapters/files.js';
import { renderers } from '../src/render/index.js';

/** Analyze the directory as `kubectl datapath analyze DIR -o json` does, and report time and peak RSS. */
async function main(): Promise<void> {
  const dir = process.argv[2];
  const start = process.hrtime.bigint();
  const report = await analyze({ paths: [dir], points: [], endpointFiles: [], node: 'bench', maxPackets: 10 }, fileCatalog);
  const json = renderers.json(report, { color: false });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const lines = report.inputs.reduce((n, i) => n + i.lines, 0);
  const understood = report.inputs.reduce((n, i) => n + i.understood, 0);
  process.stdout.write(JSON.stringify({ ms, lines, understood, flows: report.flows.length, bytes: json.length, maxRssKB: process.resourceUsage().maxRSS }) + '\n');
}
void main();
