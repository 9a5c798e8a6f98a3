import { Command, Option } from 'commander';
import { EXIT, UsageError } from '../core/errors.js';
import { parseRequestTimeout } from '../adapters/kube/request-timeout.js';
import { sanitizeTerminalText } from '../render/sanitize.js';
import type { IOStreams } from './io.js';
import { VERSION } from './version.js';

/** Outcome of a command: main.ts turns it into the process exit code. */
export interface CommandOutcome {
  exitCode: number;
}

const OUTPUTS = ['table', 'wide', 'json', 'yaml', 'mermaid', 'html'];

/**
 * buildProgram declares the CLI. Commands load their implementation lazily so `--help` and
 * `version` never load the Kubernetes client.
 */
export function buildProgram(io: IOStreams, outcome: CommandOutcome, signal: AbortSignal): Command {
  const program = new Command('kubectl datapath')
    .description('Trace a pod\'s packets through the Cilium datapath: tcpdump, cilium monitor and pwru side by side, in one hop report.')
    .version(VERSION, '--version', 'print the plugin version')
    .addOption(new Option('--kubeconfig <file>', 'path to the kubeconfig file'))
    .addOption(new Option('--context <name>', 'kubeconfig context to use'))
    .addOption(new Option('-n, --namespace <ns>', 'namespace of the pods (default: the context\'s namespace)'))
    .addOption(new Option('-o, --output <format>', 'output format (html: one self-contained page with a swimlane diagram per flow; redirect it to a file)').choices(OUTPUTS).default('table'))
    .addOption(new Option('--color <when>', 'colour the table').choices(['auto', 'always', 'never']).default('auto'))
    .addOption(new Option('--request-timeout <duration>', 'the most one API request may take, as kubectl\'s (e.g. 10s, 2m; 0: no limit; default 30s)'))
    .addOption(new Option('--debug', 'print stack traces and debug details'))
    .configureOutput({
      writeOut: (s) => io.out.write(s),
      writeErr: (s) => io.err.write(s),
      // A usage error is one line, the flag value in it made harmless for the terminal.
      outputError: (s, write) => write(`${sanitizeTerminalText(s.trimEnd().replace(/\n+/g, ' '))} (run kubectl datapath --help for usage)\n`),
    })
    .exitOverride()
    // Namespaces are checked before any command runs (and before a kubeconfig is read): a value
    // that cannot be a namespace is a usage error, never a request or a remote argument.
    .hook('preAction', (_program, action) => {
      checkNamespace(program.opts().namespace, '-n/--namespace');
      checkNamespace(action.opts().probeNamespace, '--probe-namespace');
      checkNamespace(action.opts().agentNamespace, '--agent-namespace');
    });

  program
    .command('analyze')
    .description('build the hop report from saved outputs (tcpdump text or pcap, cilium monitor, pwru, iptables trace, endpoint data, or a --save directory)')
    .argument('<file-or-dir...>', 'files or directories to read; - reads the standard input, and pipes (<(...), FIFOs) are read as they come')
    .option('--point <point=file>', 'name the observation point of a file, e.g. pod:default/same/eth0=same.txt (repeatable)', collect, [])
    .option('--endpoints <file>', 'endpoint data: cilium-dbg endpoint get/list output or kubectl get cep -o json (repeatable)', collect, [])
    .option('--node <name>', 'node of the inputs that do not name one')
    .option('--max-packets <n>', 'packets per flow shown in detail; the rest are counted', '10')
    .option('--pcapng <file>', 'also write the frames of the pcap inputs to one pcapng file: an interface per point, comments from monitor and pwru')
    .option('--force', 'let --pcapng replace an existing file')
    .action(async (paths: string[], opts: Record<string, unknown>) => {
      const { runAnalyze } = await import('./commands/analyze.js');
      outcome.exitCode = await runAnalyze(paths, { ...program.opts(), ...opts }, io, signal);
    });

  program
    .command('trace')
    .description('trace packets from SRC to DST live: tcpdump in both pods and on their lxc (and tunnel and NIC across nodes), cilium monitor and pwru on each node, started in parallel; traffic once all are ready; one hop report; everything removed afterwards')
    .argument('<src>', 'source pod, NAME or NAMESPACE/NAME')
    .argument('<dst>', 'destination pod, NAME or NAMESPACE/NAME; or a Service, svc/NAME[:PORT] or CLUSTERIP:PORT (traffic to its frontend, captured at a backend)')
    .option('--probes <list>', 'probes to run, comma-separated: tcpdump, monitor, pwru, iptables, hubble (iptables inserts a TRACE rule, always removed; hubble reads each node\'s Hubble in its agent pod; off where Hubble is)', 'tcpdump,monitor,pwru,hubble')
    .option('--traffic <kind>', 'traffic sent from SRC\'s netns once every probe is ready: icmp, tcp:PORT, udp:PORT, or none to observe existing traffic for --duration', 'icmp')
    .option('--count <n>', 'packets (icmp) or connections (tcp, udp) to send', '3')
    .option('--duration <s>', 'with --traffic none: seconds to observe', '10')
    .option('--timeout <s>', 'seconds the whole trace may take; every remote command is bounded by it', '60')
    .option('--quiet <ms>', 'after the traffic, stop the probes once none has printed anything for this long (default 250; raise it on a slow cluster)')
    .option('--grace <ms>', 'after the traffic, the most the probes listen for late events (default 1500)')
    .option('--save <dir>', 'keep every raw output and run.json in DIR, so `analyze DIR` rebuilds the report')
    .option('--force', 'let --save write into a directory that already holds files, replacing them')
    .option('--backend <pod>', 'with a Service as DST: the backend pod to capture at (default: the first by name)')
    .option('--expect <verdict>', 'delivered or dropped: exit 6 when the verdict of the request from SRC to DST is another (for scripts and CI)')
    .option('--probe-namespace <ns>', 'namespace of the short-lived probe pods (default: -n or the context\'s namespace)')
    .option('--probe-image <image>', 'image of the capture probe pods: needs sh, timeout, tcpdump, ip (iproute2), nsenter, ping and nc (default: docker.io/nicolaka/netshoot:v0.13)')
    .option('--pwru-image <image>', 'image of the pwru probe pods: needs sh, timeout and pwru >= v1.0.0 (default: docker.io/cilium/pwru:v1.0.9)')
    .option('--pwru-functions <which>', 'kernel functions pwru attaches to: rules (the ones the report reads: ready in a fraction of the time) or all (every function that takes an skb)', 'rules')
    .option('--agent-namespace <ns>', 'namespace of the Cilium agent pods', 'kube-system')
    .option('--max-packets <n>', 'packets per flow shown in detail; the rest are counted', '10')
    .action(async (src: string, dst: string, opts: Record<string, unknown>) => {
      const { runTrace } = await import('./commands/trace.js');
      outcome.exitCode = await runTrace(src, dst, { ...program.opts(), ...opts }, io, signal);
    });

  program
    .command('cleanup')
    .description('remove what an interrupted trace left: probe pods (by label), monitor and xtables-monitor processes in the agents (by pidfile), TRACE rules (by comment)')
    .option('--run <id>', 'only what this run left (the kubectl-datapath/run label of its probe pods); without it, running traces are stopped too')
    .option('--probe-namespace <ns>', 'namespace of the probe pods (default: -n or the context\'s namespace)')
    .option('--agent-namespace <ns>', 'namespace of the Cilium agent pods', 'kube-system')
    .action(async (opts: Record<string, unknown>) => {
      const { runCleanup } = await import('./commands/cleanup.js');
      outcome.exitCode = await runCleanup({ ...program.opts(), ...opts }, io, signal);
    });

  program
    .command('endpoints')
    .description("resolve pods to their Cilium endpoints: node, agent pod, endpoint id, identity, host-side lxc and ifindex, MACs, the node's routing mode")
    .argument('<pod...>', 'pods as NAME or NAMESPACE/NAME (NAME alone: -n or the context\'s namespace)')
    .option('--agent-namespace <ns>', 'namespace of the Cilium agent pods', 'kube-system')
    .action(async (pods: string[], opts: Record<string, unknown>) => {
      const { runEndpoints } = await import('./commands/endpoints.js');
      outcome.exitCode = await runEndpoints(pods, { ...program.opts(), ...opts }, io, signal);
    });

  program
    .command('doctor')
    .description('check what a trace needs: RBAC, Cilium version and CLI, routing mode, monitor aggregation, kernel and BTF for pwru, Pod Security of the probe namespace')
    .option('--probe-namespace <ns>', 'namespace where trace creates its probe pods (default: -n or the context\'s namespace)')
    .option('--agent-namespace <ns>', 'namespace of the Cilium agent pods', 'kube-system')
    .option('--node <name>', "check this node's agent (repeatable; default: every node, up to --max-nodes)", collect, [])
    .option('--max-nodes <n>', 'nodes checked when --node is not given', '5')
    .action(async (opts: Record<string, unknown>) => {
      const { runDoctorCommand } = await import('./commands/doctor.js');
      outcome.exitCode = await runDoctorCommand({ ...program.opts(), ...opts }, io, signal);
    });

  program
    .command('version')
    .description('print the plugin version and, with a cluster, the Cilium version its agents run')
    .option('--client', 'print the plugin version only, without contacting the cluster')
    .action(async (opts: Record<string, unknown>) => {
      const { runVersion } = await import('./commands/version.js');
      outcome.exitCode = await runVersion({ ...program.opts(), ...opts }, io);
    });

  return program;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * positiveInt reads a flag that must be a whole number from 1 to `max` (by default a million:
 * every count, size and millisecond flag stays far below what timers and arrays accept).
 */
export function positiveInt(value: unknown, flag: string, max = 1_000_000): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a whole number of at least 1, not ${quoted(value)}`);
  if (n > max) throw new UsageError(`${flag} must be at most ${max}, not ${quoted(value)}`);
  return n;
}

// A namespace is a DNS-1123 label (k8s.io/apimachinery IsDNS1123Label).
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** checkNamespace refuses a namespace flag that is not a DNS-1123 label (unset is fine). */
export function checkNamespace(value: unknown, flag: string): void {
  if (value === undefined) return;
  const ns = String(value);
  if (ns.length > 63 || !DNS_LABEL.test(ns)) {
    throw new UsageError(`${flag} ${quoted(value)} is not a namespace: lower-case letters, digits and '-', at most 63, starting and ending with a letter or digit`);
  }
}

/** A user's value quoted for an error line, its control characters made visible. */
export function quoted(value: unknown): string {
  return `"${sanitizeTerminalText(String(value))}"`;
}

/** requestTimeoutMs reads --request-timeout (kubectl's spelling: 30s, 2m, 0 for none); a usage error when it is not one. */
export function requestTimeoutMs(opts: Record<string, unknown>): number {
  const ms = parseRequestTimeout(opts.requestTimeout);
  if (ms === undefined) throw new UsageError(`--request-timeout ${quoted(opts.requestTimeout)}: expected a duration such as 30s, 2m or 1h (0: no limit)`);
  return ms;
}
