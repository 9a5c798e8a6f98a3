/**
 * pwru v1.0.9's command line (internal/pwru/types.go SetFlags): pflag syntax, defaults of that
 * release (--output-meta and --output-tuple on, --timestamp none), the pcap-filter expression as
 * the positional arguments. Flags whose behaviour the lab cannot reproduce are refused rather
 * than silently ignored.
 */

export interface PwruFlags {
  help: boolean;
  version: boolean;
  filterFunc?: string;
  filterNetns?: string;
  filterMark?: number;
  filterIfname?: string;
  filterTrackSkb: boolean;
  timestamp: 'none' | 'current' | 'relative' | 'absolute';
  outputMeta: boolean;
  outputTuple: boolean;
  outputLimitLines: number;
  outputJson: boolean;
  readyFile?: string;
  pcap: string;
}

export class FlagError extends Error {}

const BOOL = new Set(['--help', '-h', '--version', '--filter-track-skb', '--output-meta', '--output-tuple', '--output-json', '--filter-trace-tc', '--filter-trace-xdp', '--filter-track-skb-by-stackid', '--all-kmods']);
const VALUE = new Set(['--filter-func', '--filter-netns', '--filter-mark', '--filter-ifname', '--timestamp', '--output-limit-lines', '--ready-file', '--backend', '--kernel-btf', '--filter-kprobe-batch']);
/** Flags of v1.0.9 whose output the lab cannot produce. */
const UNSUPPORTED = new Set(['--output-skb', '--output-skb-shared-info', '--output-stack', '--output-caller', '--filter-trace-tc', '--filter-trace-xdp', '--filter-track-bpf-helpers', '--filter-non-skb-funcs', '--output-file', '--kmods']);

export const USAGE = `Usage: pwru [options] [pcap-filter]
    Available pcap-filter: see "man 7 pcap-filter"
    Available options:
      --all-kmods                       attach to all available kernel modules
      --backend string                  Tracing backend('kprobe', 'kprobe-multi'). Will auto-detect if not specified.
      --filter-func string              filter kernel functions to be probed by name (exact match, supports RE2 regular expression)
      --filter-ifname string            filter skb ifname in --filter-netns (if not specified, use current netns)
      --filter-kprobe-batch uint        batch size for kprobe attaching/detaching (default 10)
      --filter-mark uint32              filter skb mark
      --filter-netns string             filter netns ("/proc/<pid>/ns/net", "inode:<inode>")
      --filter-track-skb                trace a packet even if it does not match given filters (e.g., after NAT or tunnel decapsulation)
  -h, --help                            display this message and exit
      --output-json                     output traces in JSON format
      --output-limit-lines uint         exit the program after the number of events has been received/printed
      --output-meta                     print skb metadata (default true)
      --output-tuple                    print L4 tuple (default true)
      --timestamp string                print timestamp per skb ("current", "relative", "absolute", "none") (default "none")
      --version                         show pwru version and exit
`;

function bool(v: string | undefined, flag: string): boolean {
  if (v === undefined || v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new FlagError(`invalid argument "${v}" for "${flag}" flag: strconv.ParseBool: parsing "${v}": invalid syntax`);
}

/** Parses argv; throws FlagError with pflag's message. */
export function parsePwruFlags(argv: string[]): PwruFlags {
  const f: PwruFlags = { help: false, version: false, filterTrackSkb: false, timestamp: 'none', outputMeta: true, outputTuple: true, outputLimitLines: 0, outputJson: false, pcap: '' };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    if (UNSUPPORTED.has(name)) throw new FlagError(`${name} is not emulated by the datapath lab's pwru`);
    if (BOOL.has(name)) {
      const v = bool(inline, name);
      if (name === '-h' || name === '--help') f.help = v;
      else if (name === '--version') f.version = v;
      else if (name === '--filter-track-skb') f.filterTrackSkb = v;
      else if (name === '--output-meta') f.outputMeta = v;
      else if (name === '--output-tuple') f.outputTuple = v;
      else if (name === '--output-json') f.outputJson = v;
      continue;
    }
    if (!VALUE.has(name)) throw new FlagError(`unknown flag: ${name}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new FlagError(`flag needs an argument: ${name}`);
    switch (name) {
      case '--filter-func':
        f.filterFunc = value;
        break;
      case '--filter-netns':
        f.filterNetns = value;
        break;
      case '--filter-mark':
        f.filterMark = Number(value);
        break;
      case '--filter-ifname':
        f.filterIfname = value;
        break;
      case '--timestamp':
        if (!['none', 'current', 'relative', 'absolute'].includes(value)) throw new FlagError(`invalid --timestamp ${value}`);
        f.timestamp = value as PwruFlags['timestamp'];
        break;
      case '--output-limit-lines':
        f.outputLimitLines = Number(value);
        break;
      case '--ready-file':
        f.readyFile = value;
        break;
      default:
        break; // --backend, --kernel-btf, --filter-kprobe-batch: accepted, nothing to change
    }
  }
  f.pcap = positional.join(' ');
  return f;
}
