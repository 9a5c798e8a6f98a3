import { analyze } from '../../app/analyze.js';
import { exportPcapng } from '../../app/export-pcapng.js';
import { fileSink } from '../../adapters/file-sink.js';
import { fileCatalog, fileSource } from '../../adapters/files.js';
import type { HopReport } from '../../core/model/report.js';
import { EXIT, UsageError } from '../../core/errors.js';
import { renderers, type OutputFormat } from '../../render/index.js';
import { useColor, type IOStreams } from '../io.js';
import { positiveInt } from '../program.js';
import { VERSION } from '../version.js';

/** runAnalyze: options -> AnalyzeRequest -> analyze -> renderer. Returns the exit code. */
export async function runAnalyze(paths: string[], opts: Record<string, unknown>, io: IOStreams): Promise<number> {
  const points = (opts.point as string[]).map((spec) => {
    const eq = spec.lastIndexOf('=');
    if (eq <= 0 || eq === spec.length - 1) throw new UsageError(`--point ${spec}: expected POINT=FILE, e.g. --point pod:default/same/eth0=same-eth0.txt`);
    return { point: spec.slice(0, eq), file: spec.slice(eq + 1) };
  });
  const report = await analyze(
    {
      paths,
      points,
      endpointFiles: opts.endpoints as string[],
      node: opts.node as string | undefined,
      maxPackets: positiveInt(opts.maxPackets, '--max-packets'),
    },
    fileCatalog,
  );
  const format = opts.output as OutputFormat;
  const width = io.out.columns && io.out.columns > 60 ? io.out.columns : 120;
  io.out.write(renderers[format](report, { color: useColor(opts.color as string, io), width }));
  const pcapngFailed = typeof opts.pcapng === 'string' && !(await writePcapng(report, opts.pcapng, io));
  const bad = report.inputs.filter((i) => !(i.status === 'ok'));
  if (bad.length === report.inputs.length) {
    for (const i of bad) io.err.write(`error: ${i.name}: ${i.status}\n`);
    return EXIT.error;
  }
  if (bad.length) {
    for (const i of bad) io.err.write(`warning: ${i.name}: ${i.status}\n`);
    return EXIT.partial;
  }
  return pcapngFailed ? EXIT.error : EXIT.ok;
}

/**
 * writePcapng re-reads the pcap inputs (so memory does not grow with the capture) and writes
 * their frames with the report's words; says on stderr what it wrote. False when it could not.
 */
export async function writePcapng(report: HopReport, path: string, io: IOStreams, fileOf: (inputName: string) => string = (n) => n): Promise<boolean> {
  const captures = report.inputs.filter((i) => i.tool === 'pcap' && (i.status === 'ok' || i.status.startsWith('partial')));
  if (captures.length === 0) {
    io.err.write(`error: --pcapng ${path}: no pcap or pcapng input to take frames from (tcpdump text has no frames: capture with tcpdump -w)\n`);
    return false;
  }
  try {
    const summary = await exportPcapng(
      report,
      captures.map((i) => ({ source: fileSource(fileOf(i.name)), point: i.point, node: i.node })),
      fileSink(path),
      `kubectl-datapath ${VERSION}`,
    );
    for (const p of summary.problems) io.err.write(`warning: --pcapng: ${p}\n`);
    const ifaces = summary.interfaces.map((i) => `${i.name} (${i.packets})`).join(', ');
    io.err.write(`wrote ${path}: ${summary.packets} packets on ${summary.interfaces.length} interfaces: ${ifaces}\n`);
    return true;
  } catch (err) {
    io.err.write(`error: --pcapng ${path}: ${(err as Error).message}\n`);
    return false;
  }
}
