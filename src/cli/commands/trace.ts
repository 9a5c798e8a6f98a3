import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SAVED_HTML_REPORT } from '../../adapters/files.js';
import { checkSaveDir, saveDir } from '../../adapters/save-dir.js';
import { writePcapng } from './analyze.js';
import { EndpointResolver } from '../../app/resolve.js';
import { DEFAULT_PROBE_IMAGE, DEFAULT_PWRU_IMAGE } from '../../app/probe-pods.js';
import type { PodRef } from '../../app/ports.js';
import type { HopReport } from '../../core/model/report.js';
import { DEFAULT_GRACE_MS, trace, type TracePorts, type TraceRequest } from '../../app/trace.js';
import { EXIT, UsageError } from '../../core/errors.js';
import { expectationFailure, type Expectation } from '../../app/expect.js';
import { sanitizeTerminalText } from '../../render/sanitize.js';
import { parseProbeList, parseTraffic } from '../../core/plan.js';
import { PWRU_FUNCTION_CHOICES } from '../../probes/pwru.js';
import { renderers, type OutputFormat } from '../../render/index.js';
import { connectCluster } from '../cluster.js';
import { useColor, type IOStreams } from '../io.js';
import { parsePodArg } from '../pod-arg.js';
import { parseServiceArg, resolveServiceTarget, type ServiceArg } from '../../app/service-target.js';
import { positiveInt, requestTimeoutMs } from '../program.js';
import { createProgress } from '../progress.js';

/** TraceFlags: the trace request as the flags say, before the cluster is asked anything. */
export interface TraceFlags extends Omit<TraceRequest, 'src' | 'dst' | 'probeNamespace'> {
  src: { namespace?: string; name: string };
  dst: { namespace?: string; name: string };
  probeNamespace?: string;
  save?: string;
  /** `--expect delivered|dropped`: exit 6 when the traced request's verdict is another. */
  expect?: Expectation;
  /** DST named a Service (`svc/NAME[:PORT]`, `CLUSTERIP:PORT`): resolved against the cluster in traceAndRender. */
  dstService?: ServiceArg;
  /** `--backend POD`: the Service's backend to capture at. */
  backend?: string;
}

/** A day: a bound for --timeout and --duration that timers hold (setTimeout overflows past 24.8 days). */
const MAX_SECONDS = 86_400;

/** readTraceFlags validates the flags (pure: no cluster). */
export function readTraceFlags(srcArg: string, dstArg: string, opts: Record<string, unknown>): TraceFlags {
  const probes = parseProbeList(String(opts.probes));
  if (probes.error) throw new UsageError(`--probes: ${probes.error}`);
  const pwruFunctions = PWRU_FUNCTION_CHOICES.find((c) => c === (opts.pwruFunctions ?? 'rules'));
  if (!pwruFunctions) throw new UsageError(`--pwru-functions ${String(opts.pwruFunctions)}: expected ${PWRU_FUNCTION_CHOICES.join(' or ')}`);
  const traffic = parseTraffic(String(opts.traffic));
  if (!traffic) throw new UsageError(`--traffic ${String(opts.traffic)}: expected icmp, tcp:PORT, udp:PORT or none`);
  const src = parsePodArg(srcArg);
  const dstService = parseServiceArg(dstArg);
  // A Service's backend pod is known once the cluster is asked (traceAndRender).
  const dst = dstService ? { name: '' } : parsePodArg(dstArg);
  if (!dstService && src.name === dst.name && (src.namespace ?? '') === (dst.namespace ?? '')) throw new UsageError(`SRC and DST are the same pod (${srcArg}): trace two different pods`);
  const backend = opts.backend as string | undefined;
  if (backend !== undefined && !dstService) throw new UsageError(`--backend ${backend}: only with a Service as DST (svc/NAME or CLUSTERIP:PORT)`);
  const durationS = positiveInt(opts.duration, '--duration', MAX_SECONDS);
  const timeoutS = positiveInt(opts.timeout, '--timeout', MAX_SECONDS);
  if (traffic.kind === 'none' && durationS >= timeoutS) throw new UsageError(`--duration ${durationS} must be shorter than --timeout ${timeoutS}: the probes need time to start and stop`);
  // Unset, the trace's own defaults apply.
  const quietMs = opts.quiet === undefined ? undefined : positiveInt(opts.quiet, '--quiet');
  const graceMs = opts.grace === undefined ? undefined : positiveInt(opts.grace, '--grace');
  const expect = opts.expect as string | undefined;
  if (expect !== undefined && expect !== 'delivered' && expect !== 'dropped') throw new UsageError(`--expect ${expect}: expected delivered or dropped`);
  if (graceMs !== undefined && graceMs >= timeoutS * 1000) throw new UsageError(`--grace ${graceMs} ms must be shorter than --timeout ${timeoutS} s: the probes need time to start and stop`);
  if (quietMs !== undefined && quietMs > (graceMs ?? DEFAULT_GRACE_MS)) {
    throw new UsageError(`--quiet ${quietMs} must not be longer than --grace ${graceMs ?? `${DEFAULT_GRACE_MS} (the default)`}: the grace is the most a trace listens after its traffic; raise it too`);
  }
  return {
    src,
    dst,
    probes: probes.probes,
    traffic,
    count: positiveInt(opts.count, '--count'),
    durationS,
    timeoutS,
    maxPackets: positiveInt(opts.maxPackets, '--max-packets'),
    probeNamespace: opts.probeNamespace as string | undefined,
    probeImage: (opts.probeImage as string | undefined) ?? DEFAULT_PROBE_IMAGE,
    pwruImage: (opts.pwruImage as string | undefined) ?? DEFAULT_PWRU_IMAGE,
    save: opts.save as string | undefined,
    pwruFunctions,
    ...(expect !== undefined && { expect }),
    ...(dstService !== undefined && { dstService }),
    ...(backend !== undefined && { backend }),
    ...(quietMs !== undefined && { quietMs }),
    ...(graceMs !== undefined && { graceMs }),
  };
}

/** runTrace: flags -> TraceRequest -> trace -> renderer. Exit 0 ok, 3 partial, 130 after Ctrl-C (report printed). */
export async function runTrace(srcArg: string, dstArg: string, opts: Record<string, unknown>, io: IOStreams, signal: AbortSignal): Promise<number> {
  const flags = readTraceFlags(srcArg, dstArg, opts);
  if (flags.save) checkSaveDir(flags.save, opts.force === true);
  const cluster = connectCluster(
    // Not ended by Ctrl-C: after it the trace still removes its probe pods through this port.
    // Each request is bounded by --request-timeout, and never longer than the whole --timeout.
    { ...opts, requestTimeout: `${Math.min(requestTimeoutMs(opts) || Infinity, flags.timeoutS * 1000)}ms` },
    opts.agentNamespace as string | undefined,
  );
  const resolver = new EndpointResolver(cluster.kube, cluster.exec, { signal });
  const ports = { kube: cluster.kube, exec: cluster.exec, resolve: (ref: PodRef) => resolver.resolvePod(ref), save: flags.save ? saveDir(flags.save, opts.force === true) : undefined };
  return traceAndRender(flags, cluster.config.namespace, ports, opts, io, signal);
}

/** traceAndRender: the part of the command after the cluster is chosen (tests give it fakes). */
export async function traceAndRender(flags: TraceFlags, namespace: string, ports: TracePorts, opts: Record<string, unknown>, io: IOStreams, signal: AbortSignal): Promise<number> {
  const format = opts.output as OutputFormat;
  const { save, expect, dstService, backend, ...request } = flags;
  const src = { namespace: flags.src.namespace ?? namespace, name: flags.src.name };
  let dst = { namespace: flags.dst.namespace ?? namespace, name: flags.dst.name };
  if (dstService) {
    // To a Service: its frontend gets the traffic, the backend's node is captured.
    const target = await resolveServiceTarget(ports.kube, dstService, namespace, backend);
    dst = target.backend;
    request.toService = target;
    if (request.traffic.kind === 'icmp') request.traffic = { kind: target.frontend.protocol, port: target.frontend.port };
  }
  const progress = await createProgress(io, format, opts.debug === true);
  if (request.toService && request.toService.backends.length > 1) {
    const t = request.toService;
    progress.warn(`service ${t.service.namespace}/${t.service.name} has ${t.backends.length} backends (${t.backends.join(', ')}): capturing at ${dst.namespace}/${dst.name}'s node; connections load-balanced to another show at the source only (--backend POD to pick one)`);
  }
  let outcome;
  try {
    outcome = await trace(
      {
        ...request,
        src,
        dst,
        probeNamespace: flags.probeNamespace ?? namespace,
      },
      ports,
      progress,
      signal,
    );
  } finally {
    progress.stop();
  }
  const width = io.out.columns && io.out.columns > 60 ? io.out.columns : 120;
  io.out.write(renderers[format](outcome.report, { color: useColor(opts.color as string, io), width }));
  if (save) {
    io.err.write(`saved the raw outputs and run.json in ${save}: kubectl datapath analyze ${save} rebuilds this report\n`);
    writeHtmlReport(outcome.report, join(save, SAVED_HTML_REPORT), io);
    // In a subdirectory, so that `analyze DIR` does not read the export as one more capture.
    const dir = join(save, 'wireshark');
    mkdirSync(dir, { recursive: true });
    await writePcapng(outcome.report, join(dir, 'trace.pcapng'), io, (name) => join(save, name));
  }
  if (outcome.interrupted) return EXIT.interrupted;
  // A report none of whose probes gave anything is no partial report: nothing in it is usable.
  if (!outcome.report.inputs.some((i) => i.status === 'ok' || i.status.startsWith('partial'))) return EXIT.error;
  const failed = expect ? expectationFailure(outcome.report, src, dst, expect) : undefined;
  if (failed) {
    io.err.write(`${sanitizeTerminalText(failed)}\n`);
    return EXIT.unexpected;
  }
  return outcome.partial ? EXIT.partial : EXIT.ok;
}

/** writeHtmlReport saves the report's page (as `-o html` prints it) beside the raw outputs; a failure is one line, not the end of the trace. */
function writeHtmlReport(report: HopReport, path: string, io: IOStreams): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, renderers.html(report, { color: false }));
    io.err.write(`wrote ${path}: the report as a page to open in a browser\n`);
  } catch (err) {
    io.err.write(`error: ${path}: ${(err as Error).message}\n`);
  }
}
