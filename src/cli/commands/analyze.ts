import { fstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import { analyze } from '../../app/analyze.js';
import { exportPcapng } from '../../app/export-pcapng.js';
import { fileSink } from '../../adapters/file-sink.js';
import { fileSource, inputCatalog, type OnceStream } from '../../adapters/files.js';
import type { HopReport } from '../../core/model/report.js';
import { EXIT, UsageError } from '../../core/errors.js';
import { parsePoint } from '../../core/points.js';
import { renderers, type OutputFormat } from '../../render/index.js';
import { sanitizeTerminalText } from '../../render/sanitize.js';
import { useColor, type IOStreams } from '../io.js';
import { positiveInt, quoted } from '../program.js';
import { VERSION } from '../version.js';

/** runAnalyze: options -> AnalyzeRequest -> analyze -> renderer. Returns the exit code. */
export async function runAnalyze(paths: string[], opts: Record<string, unknown>, io: IOStreams, signal?: AbortSignal): Promise<number> {
  const points = (opts.point as string[]).map((spec) => {
    const eq = spec.lastIndexOf('=');
    if (eq <= 0 || eq === spec.length - 1) throw new UsageError(`--point ${spec}: expected POINT=FILE, e.g. --point pod:default/same/eth0=same-eth0.txt`);
    const point = spec.slice(0, eq);
    if (!parsePoint(point)) throw new UsageError(`--point ${quoted(point)} is not a point id: pod:NS/POD/IF, host:NODE/IF, cilium:NODE/EP, kernel:NODE or iptables:NODE`);
    return { point, file: spec.slice(eq + 1) };
  });
  const maxPackets = positiveInt(opts.maxPackets, '--max-packets');
  const endpointFiles = opts.endpoints as string[];
  const pcapng = typeof opts.pcapng === 'string' ? checkPcapngTarget(opts.pcapng, [...paths, ...endpointFiles, ...points.map((p) => p.file)], opts.force === true) : undefined;
  const report = await analyze(
    { paths, points, endpointFiles, node: opts.node as string | undefined, maxPackets, signal },
    inputCatalog(paths.includes('-') && io.in ? { isTTY: io.in.isTTY, stream: io.in as unknown as OnceStream } : undefined, signal),
  );
  const format = opts.output as OutputFormat;
  const width = io.out.columns && io.out.columns > 60 ? io.out.columns : 120;
  if (signal?.aborted) {
    // Interrupted: a partial report is printed only for a program that asked for data.
    if (format === 'json' || format === 'yaml') io.out.write(renderers[format](report, { color: false, width }));
    io.err.write('interrupted: analyze stopped before reading every input\n');
    return EXIT.interrupted;
  }
  io.out.write(renderers[format](report, { color: useColor(opts.color as string, io), width }));
  const pcapngFailed = pcapng !== undefined && !(await writePcapng(report, pcapng.path, io, undefined, pcapng.direct));
  // An input with usable records (a truncated capture: `partial`) still counts as used.
  const usable = report.inputs.filter((i) => i.status === 'ok' || i.status.startsWith('partial'));
  const bad = report.inputs.filter((i) => i.status !== 'ok');
  const say = (level: string, i: { name: string; status: string }) => io.err.write(`${level}: ${sanitizeTerminalText(`${i.name}: ${i.status}`)}\n`);
  if (usable.length === 0) {
    for (const i of bad) say('error', i);
    return EXIT.error;
  }
  if (bad.length) {
    for (const i of bad) say('warning', i);
    return EXIT.partial;
  }
  return pcapngFailed ? EXIT.error : EXIT.ok;
}

/** The standard output's file, to tell whether a path names it (`/dev/stdout`, `/proc/self/fd/1`). */
function stdoutStats(): Stats | undefined {
  try {
    return fstatSync(1);
  } catch {
    return undefined;
  }
}

function sameFile(a: Stats | undefined, b: Stats | undefined): boolean {
  return a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino;
}

/**
 * checkPcapngTarget refuses, before anything is read, a --pcapng path that would mix binary into the
 * report on stdout, overwrite one of the inputs, or replace an existing file without --force; and
 * inputs read from a pipe, which the export (it re-reads the captures) cannot read again. A FIFO or
 * a device is written directly; a file is written beside the target and renamed onto it.
 */
export function checkPcapngTarget(path: string, inputs: string[], force: boolean): { path: string; direct: boolean } {
  const target = statOrUndefined(path);
  if (path === '-' || sameFile(target, stdoutStats())) {
    throw new UsageError(`--pcapng ${quoted(path)} is the standard output, where the report goes: give a file (the report and a capture cannot share a stream)`);
  }
  for (const input of inputs) {
    if (input === '-' || statOrUndefined(input)?.isFIFO()) {
      throw new UsageError(`--pcapng re-reads the capture inputs, and ${quoted(input)} is a pipe that can be read once: save the capture to a file first`);
    }
    if (sameFile(target, statOrUndefined(input)) || realOrSelf(path) === realOrSelf(input)) {
      throw new UsageError(`--pcapng ${quoted(path)} is one of the inputs: writing it would destroy the capture; give another path`);
    }
  }
  if (target?.isFile() && !force) throw new UsageError(`--pcapng ${quoted(path)} exists: give another path, or add --force to replace it`);
  if (target?.isDirectory()) throw new UsageError(`--pcapng ${quoted(path)} is a directory: give a file path`);
  return { path, direct: target !== undefined && !target.isFile() };
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * writePcapng re-reads the pcap inputs (so memory does not grow with the capture) and writes
 * their frames with the report's words; says on stderr what it wrote. False when it could not.
 */
export async function writePcapng(report: HopReport, path: string, io: IOStreams, fileOf: (inputName: string) => string = (n) => n, direct = false): Promise<boolean> {
  const captures = report.inputs.filter((i) => i.tool === 'pcap' && (i.status === 'ok' || i.status.startsWith('partial')));
  if (captures.length === 0) {
    io.err.write(`error: --pcapng ${sanitizeTerminalText(path)}: no pcap or pcapng input to take frames from (tcpdump text has no frames: capture with tcpdump -w)\n`);
    return false;
  }
  const sink = fileSink(path, { direct });
  try {
    const summary = await exportPcapng(
      report,
      captures.map((i) => ({ source: fileSource(fileOf(i.name)), point: i.point, node: i.node })),
      sink,
      `kubectl-datapath ${VERSION}`,
    );
    for (const p of summary.problems) io.err.write(`warning: --pcapng: ${sanitizeTerminalText(p)}\n`);
    const ifaces = summary.interfaces.map((i) => `${i.name} (${i.packets})`).join(', ');
    io.err.write(`${sanitizeTerminalText(`wrote ${path}: ${summary.packets} packets on ${summary.interfaces.length} interfaces: ${ifaces}`)}\n`);
    return true;
  } catch (err) {
    await sink.discard();
    io.err.write(`error: --pcapng ${sanitizeTerminalText(`${path}: ${(err as Error).message}`)}\n`);
    return false;
  }
}
