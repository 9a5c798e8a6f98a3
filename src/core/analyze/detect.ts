import { isPolicyGetLine } from '../parse/cilium-policy.js';
import { isLbStateLine } from '../parse/cilium-lb.js';
/**
 * Formats `analyze` recognises by content. Streams of events (captures, monitor, pwru, iptables)
 * feed the correlator; the rest (endpoint and status data, ethtool) feed what we know of endpoints.
 */
export type InputFormat =
  | 'pcap'
  | 'pcapng'
  | 'tcpdump'
  | 'monitor'
  | 'pwru'
  | 'iptables'
  | 'hubble'
  | 'endpoint-list'
  | 'endpoint-json'
  | 'cep-json'
  | 'cep-table'
  | 'lb-state'
  | 'policy-get'
  | 'k8s-policy'
  | 'status-text'
  | 'status-json'
  | 'ethtool'
  | 'kubectl-table'
  | 'trace-meta'
  | 'unknown'
  | 'binary';

const PCAP_MAGICS = [0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1];

/**
 * A tcpdump line on its own, without a `listening on` banner: any stamp (default, -tt, -tttt,
 * --nano; -ttt/-ttttt once trimmed), after -# numbers and --lengths, or a -t packet line that
 * starts with its protocol and addresses.
 */
const TCPDUMP_LINE = /^(?:\d+ {2,3})?(?:caplen \d+ len \d+ )?(?:(?:\d{4}-\d{2}-\d{2} )?\d{2}:\d{2}:\d{2}\.\d{6,9}|\d{9,10}\.\d{6,9}) |^(?:\d+ {2})?(?:IP6? \S+ > \S+: |ARP, (?:Request|Reply) )|^listening on \S+, link-type |^tcpdump: |^reading from file |^dropped privs to /;
const MONITOR_LINE = /^(?:CPU \d+: MARK 0x[0-9a-f]+ FROM \d+ |CPU \d+: \[(?:pre|post)-xlate-(?:fwd|rev)\] |(?:->|<-) (?:Request|Response) \S+ (?:from|to) \d+ \(|-> forward \(|Received an interrupt, disconnecting from monitor|Listening for events on \d+ CPUs|[<-]> (?:endpoint|stack|overlay|network|host|lxc|cilium_host)|xx drop |Policy verdict log:|-> \d+: |\[\d+\] |Press Ctrl-C to quit)/;
const PWRU_LINE = /^(?:0x[0-9a-f]{8,16} |\d{2}:\d{2}:\d{2}\.\d{3} 0x[0-9a-f]{8,16} |SKB\s+(?:CPU\s+)?PROCESS|\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} (?:Attaching kprobes|Listening for events|Attached))/;
/** pwru --output-json: an object with an skb address, whatever the key order. */
const PWRU_JSON = /^\{.*"skb"\s*:\s*"0x[0-9a-f]+"/;
/** cilium monitor -j: an object of one of its record types (pkg/monitor *Verbose structs). */
const MONITOR_JSON = /^\{.*"type"\s*:\s*"(?:trace|drop|debug|capture|logRecord|agent)"/;
const IPTABLES_LINE = /TRACE: |^PACKET: \d+ [0-9a-f]+ |^trace id [0-9a-f]+ /;
/** `hubble observe` compact (`Mon _2 15:04:05.000[ [node]]: SRC [(ID)] ARROW`), its table header, a relay notice. */
const HUBBLE_LINE = /^(?:[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}\.\d{3,9}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\S*)(?: \[[^\]]*\])?: (?:\S* (?:\([^()\s]+\) )?(?:->|<-|<>) |\d+ nodes are unavailable: )|^TIMESTAMP\s{3,}(?:NODE\s{3,})?SOURCE\s{3,}DESTINATION\s{3,}TYPE\s{3,}VERDICT/;
/** Hubble flows as JSON: the GetFlowsResponse of `-o jsonpb` and the exporter, or a bare flow with its verdict. */
const HUBBLE_JSON = /^\{"(?:flow":\{|node_status":|lost_events":)|^\{"time":"[^"]+","(?:uuid|verdict)":/;
const ENDPOINT_LIST = /^ENDPOINT\s+POLICY \(ingress\)/;
const STATUS_TEXT = /^(?:KVStore|Kubernetes|Cilium|KubeProxyReplacement|Host Routing|Routing|Controller Status|Cluster health):\s/;
const ETHTOOL = /^(?:NIC statistics:|\s*peer_ifindex: \d+)/;
const KUBECTL_TABLE = /^NAME\s+(?:READY|STATUS)\s/;
/** Network policy objects (parse/k8s-policy.ts): `kubectl get cnp,ccnp,netpol -o json|yaml`, or a manifest. */
const K8S_POLICY_JSON = /"kind"\s*:\s*"(?:CiliumNetworkPolicy|CiliumClusterwideNetworkPolicy|NetworkPolicy)"/;
const K8S_POLICY_YAML = /^(?:- )?kind: ["']?(?:CiliumNetworkPolicy|CiliumClusterwideNetworkPolicy|NetworkPolicy)["']?$/;
/** `kubectl get cep` (CRD printer columns, see parse/cilium-endpoint-table.ts). */
const CEP_TABLE = /^(?:NAMESPACE\s+)?NAME\s+SECURITY IDENTITY\s/;

/** detectFormat looks at the first bytes and lines of an input and names its format. */
export function detectFormat(head: Uint8Array, lines: readonly string[]): InputFormat {
  if (head.length >= 4) {
    const be = ((head[0] << 24) | (head[1] << 16) | (head[2] << 8) | head[3]) >>> 0;
    if (PCAP_MAGICS.includes(be)) return 'pcap';
    if (be === 0x0a0d0d0a) return 'pcapng';
  }
  if (looksBinary(head)) return 'binary';
  // A saved JSON document may start with `#` comment lines (a provenance header); JSON has none.
  const first = lines.find((l) => l.trim() !== '' && !l.startsWith('#'))?.trimStart() ?? '';
  if (first.startsWith('{') || first.startsWith('[')) {
    const text = lines.join('\n');
    // Policy objects first: `kubectl get cnp -o json` is a List of cilium.io objects too.
    if (K8S_POLICY_JSON.test(text)) return 'k8s-policy';
    if (/"kind"\s*:\s*"(?:CiliumEndpoint|List)"/.test(text) && /cilium\.io\//.test(text)) return 'cep-json';
    if (/"kubectlDatapathRun"\s*:/.test(text)) return 'trace-meta';
    if (/"interface-name"|"external-identifiers"|"identity"\s*:\s*{\s*"id"/.test(text) && /"status"\s*:/.test(text)) return 'endpoint-json';
    if (/"kube-proxy-replacement"|"routing"\s*:|"host-routing"|"cilium"\s*:\s*{\s*"state"/.test(text)) return 'status-json';
    if (PWRU_JSON.test(first) && /"func"\s*:/.test(first)) return 'pwru';
    if (MONITOR_JSON.test(first)) return 'monitor';
    if (HUBBLE_JSON.test(first)) return 'hubble';
  }
  const votes = new Map<InputFormat, number>();
  const vote = (f: InputFormat, n = 1) => votes.set(f, (votes.get(f) ?? 0) + n);
  for (const raw of lines) {
    const line = raw.trimStart();
    if (line === '' || isPrompt(line)) continue;
    if (ENDPOINT_LIST.test(line)) vote('endpoint-list', 10);
    else if (ETHTOOL.test(line)) vote('ethtool', 5);
    else if (CEP_TABLE.test(line)) vote('cep-table', 10);
    else if (isLbStateLine(line)) vote('lb-state', 5);
    else if (isPolicyGetLine(line)) vote('policy-get', 5);
    else if (K8S_POLICY_YAML.test(line)) vote('k8s-policy', 10);
    else if (KUBECTL_TABLE.test(line)) vote('kubectl-table', 5);
    else if (STATUS_TEXT.test(line)) vote('status-text', 2);
    else if (PWRU_LINE.test(line) || (line.startsWith('{') && PWRU_JSON.test(line))) vote('pwru', 2);
    else if (line.startsWith('{') && MONITOR_JSON.test(line)) vote('monitor', 2);
    else if (MONITOR_LINE.test(line)) vote('monitor', 2);
    else if (IPTABLES_LINE.test(line)) vote('iptables', 2);
    else if (HUBBLE_LINE.test(line) || HUBBLE_JSON.test(line)) vote('hubble', 2);
    else if (TCPDUMP_LINE.test(line)) vote('tcpdump', 2);
  }
  let best: InputFormat = 'unknown';
  let bestVotes = 0;
  for (const [f, n] of votes) {
    if (n > bestVotes) {
      best = f;
      bestVotes = n;
    }
  }
  return best;
}

function looksBinary(head: Uint8Array): boolean {
  const n = Math.min(head.length, 512);
  let odd = 0;
  for (let i = 0; i < n; i++) {
    const b = head[i];
    if (b === 0) return true;
    if (b < 9 || (b > 13 && b < 32)) odd++;
  }
  return n > 0 && odd / n > 0.1;
}

const PROMPT = /^(?:[\w.-]+@[\w.-]+:[^#$]*[#$]|\$|#) /;

/** isPrompt says whether a line is a shell prompt with a command, as in hand-made transcripts. */
export function isPrompt(line: string): boolean {
  return PROMPT.test(line);
}

/**
 * withoutLeadingComments: a JSON document without the `#` lines saved before it (JSON has no
 * comments, so they cannot be part of it), each replaced by an empty line to keep line numbers.
 */
export function withoutLeadingComments(text: string): string {
  let i = 0;
  while (text.charCodeAt(i) === 35 /* # */) {
    const nl = text.indexOf('\n', i);
    if (nl < 0) return '';
    i = nl + 1;
  }
  return i === 0 ? text : '\n'.repeat(text.slice(0, i).split('\n').length - 1) + text.slice(i);
}
