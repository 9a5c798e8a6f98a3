import { analyze } from '../../app/analyze.js';
import { fileCatalog } from '../../adapters/files.js';
import { EXIT, UsageError } from '../../core/errors.js';
import { renderers, type OutputFormat } from '../../render/index.js';
import { useColor, type IOStreams } from '../io.js';
import { positiveInt } from '../program.js';

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
  const bad = report.inputs.filter((i) => !(i.status === 'ok'));
  if (bad.length === report.inputs.length) {
    for (const i of bad) io.err.write(`error: ${i.name}: ${i.status}\n`);
    return EXIT.error;
  }
  if (bad.length) {
    for (const i of bad) io.err.write(`warning: ${i.name}: ${i.status}\n`);
    return EXIT.partial;
  }
  return EXIT.ok;
}
