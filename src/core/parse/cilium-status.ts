import type {
  CiliumStatus,
  ComponentState,
  KubeProxyReplacementMode,
  KubeProxyReplacementStatus,
  MasqueradingStatus,
  NodeMonitorStatus,
} from '../model/status.js';
import { asNumber as num, asRecord as record, asString as str, asStringArray } from './json-value.js';
import { transcriptNoise } from './transcript-noise.js';
import type { UnparsedLine } from './unparsed-line.js';

/**
 * The agent's `cilium status` / `cilium-dbg status` in text (pkg/client FormatStatusResponse plus
 * cilium-dbg's cluster/modules health) and JSON (`-o json`, api/v1/models StatusResponse).
 * Text layouts covered: 1.0-1.2 (address-pool lines), 1.11 (`Host Routing:`), 1.15+ (`Routing:
 * Network: ... Host: ...`, `--verbose` sections, Modules Health tree). The cluster-level
 * cilium-cli `cilium status` (ASCII logo, DaemonSet counts) is a different tool and is refused.
 */
export interface CiliumStatusResult {
  /** null when the input was refused or held no status line at all. */
  status: CiliumStatus | null;
  error?: string;
  unparsed: UnparsedLine[];
}

/** Top-level `Key:  value` (text value may be empty, e.g. `Allocated addresses:`). */
const TOP_LEVEL = /^([A-Za-z][\w /().-]*?):(?:[ \t]+(.*))?$/;
const CLI_LOGO = /\/¯¯\\/;
const CLI_ONLY_KEYS = /^(?:DaemonSet|Deployment|Containers:|Cluster Pods:|Helm chart version:|Image versions)\s/;
const VERSION = /^(\d+\.\d+\.\d+\S*)(?:\s+\((\S+)\))?/;
const KPR_MODES = new Set<KubeProxyReplacementMode>(['Strict', 'Probe', 'Partial', 'Disabled', 'True', 'False']);
const ROUTING = /^Network:\s*(Tunnel|Native)(?:\s*\[([^\]]*)\])?\s+Host:\s*(\S+)/;
const CLUSTER_HEALTH = /^(\d+)\/(\d+) reachable/;
const CONTROLLERS = /^(\d+)\/(\d+) healthy/;
const NODE_MONITOR = /^Listening for events on (\d+) CPUs/;
const TRAILING_COMMA = /,\s*$/;
const STATE_AND_DETAIL = /^(\S+)\s*(.*)$/;
const WHITESPACE = /\s+/;
const MASQ_PROTOCOLS = /\[IPv4: (Enabled|Disabled), IPv6: (Enabled|Disabled)\]/;
const MASQ_BPF_DEVICES = /^BPF(?: \(ip-masq-agent\))?\s+\[([^\]]*)\]\s*(\S*)/;
const LOST_EVENTS = /^(\d+) events lost, (\d+) unknown notifications/;
/** Top-level keys agents print (pkg/client FormatStatusResponse, cilium-dbg status, 1.0-1.2 layouts). */
const KNOWN_KEYS = new Set([
  'KVStore', 'ContainerRuntime', 'Kubernetes', 'Kubernetes APIs', 'KubeProxyReplacement', 'Host firewall', 'SRv6',
  'CNI Chaining', 'CNI Config file', 'Cilium', 'Stale status', 'NodeMonitor', 'Cilium health daemon', 'IPAM',
  'Allocated addresses', 'ClusterMesh', 'IPv4 BIG TCP', 'IPv6 BIG TCP', 'BandwidthManager', 'Host Routing', 'Routing',
  'Attach Mode', 'Device Mode', 'Datapath Mode', 'Masquerading', 'Clock Source for BPF', 'Controller Status',
  'Proxy Status', 'Global Identity Range', 'Hubble', 'KubeProxyReplacement Details', 'BPF Maps', 'Encryption',
  'Cluster health', 'Modules Health', 'IPv4 address pool', 'IPv6 address pool',
]);
const CLI_REFUSAL = "this is cilium-cli status, not the agent's: run `cilium-dbg status` (or `cilium status` before 1.15) inside the cilium-agent container";

/** parseCiliumStatusText: the agent's status text, lines as captured (kubectl notices and prompts allowed). */
export function parseCiliumStatusText(lines: string[]): CiliumStatusResult {
  const status: CiliumStatus = { fields: {} };
  const unparsed: UnparsedLine[] = [];
  let section: string | undefined;
  let sawField = false;
  const column = valueColumn(lines);
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n].endsWith('\r') ? lines[n].slice(0, -1) : lines[n];
    const text = raw.trimEnd();
    if (text.trim() === '') continue;
    if (CLI_LOGO.test(text) || CLI_ONLY_KEYS.test(text)) return { status: null, error: CLI_REFUSAL, unparsed: [] };
    if (transcriptNoise(text.trim()) !== undefined) continue;
    const top = isIndented(text) ? null : TOP_LEVEL.exec(text);
    if (top !== null) {
      const key = top[1];
      const value = (top[2] ?? '').trim();
      status.fields[key] = value;
      section = key;
      if (!KNOWN_KEYS.has(key)) {
        // A key of a newer agent: its value stands in the column tabwriter aligned the known ones
        // to, so it is a line of the same status table (kept in `fields`, not interpreted).
        if (column === undefined || value === '' || text.indexOf(value, key.length + 1) !== column) {
          unparsed.push({ line: n + 1, text: raw, reason: `unknown status key "${key}"` });
        }
        continue;
      }
      sawField = true;
      const problem = applyField(status, key, value);
      if (problem !== undefined) unparsed.push({ line: n + 1, text: raw, reason: problem });
      continue;
    }
    if (section !== undefined && (isIndented(text) || section === 'Modules Health')) {
      const problem = applySectionLine(status, section, text.trim());
      if (problem !== undefined) unparsed.push({ line: n + 1, text: raw, reason: problem });
      continue;
    }
    unparsed.push({ line: n + 1, text: raw, reason: section === undefined ? 'not a "Key: value" status line' : `not a "Key: value" line nor part of ${section}` });
  }
  if (!sawField) return { status: null, error: 'no agent status line found', unparsed };
  return { status, unparsed };
}

/**
 * The column where the known keys' values start: FormatStatusResponse writes through a tabwriter,
 * so every `Key:\tvalue` line of one output has its value in the same column. Undefined when the
 * known keys disagree (text joined by hand).
 */
function valueColumn(lines: readonly string[]): number | undefined {
  const counts = new Map<number, number>();
  for (const line of lines) {
    const top = isIndented(line) ? null : TOP_LEVEL.exec(line.trimEnd());
    if (!top || !KNOWN_KEYS.has(top[1]) || !top[2] || top[2].trim() === '') continue;
    const at = line.indexOf(top[2].trim(), top[1].length + 1);
    counts.set(at, (counts.get(at) ?? 0) + 1);
  }
  let best: number | undefined;
  let bestCount = 0;
  for (const [at, n] of counts) if (n > bestCount) [best, bestCount] = [at, n];
  return bestCount >= 3 ? best : undefined;
}

/** The details under `Modules Health:` are a tree drawn with box characters; others are indented. */
function isIndented(text: string): boolean {
  const c = text.charCodeAt(0);
  return c === 32 || c === 9 || c === 0x2502 || c === 0x251c || c === 0x2514;
}

/** Applies one top-level line; returns why a value was not understood, if so. */
function applyField(s: CiliumStatus, key: string, value: string): string | undefined {
  switch (key) {
    case 'Cilium': {
      s.agent = componentState(value);
      const version = VERSION.exec(s.agent.detail ?? '');
      if (version !== null) {
        s.version = version[1];
        if (version[2] !== undefined) s.versionDetail = version[2];
      }
      return undefined;
    }
    case 'Kubernetes': s.kubernetes = componentState(value); return undefined;
    case 'KVStore': s.kvstore = componentState(value); return undefined;
    case 'Cilium health daemon': s.healthDaemon = componentState(value); return undefined;
    case 'Hubble': s.hubble = componentState(value); return undefined;
    case 'KubeProxyReplacement': {
      const kpr = kubeProxyReplacementFromText(value);
      if (kpr === undefined) return `unknown KubeProxyReplacement mode "${firstWord(value)}"`;
      s.kubeProxyReplacement = kpr;
      return undefined;
    }
    case 'Host Routing': return setHostRouting(s, value);
    case 'Routing': {
      const m = ROUTING.exec(value);
      if (m === null) return 'Routing: without "Network: Tunnel|Native ... Host: BPF|Legacy"';
      s.routingNetwork = m[1] as 'Tunnel' | 'Native';
      if (m[2] !== undefined && m[2] !== '') s.tunnelProtocol = m[2];
      return setHostRouting(s, m[3]);
    }
    case 'Attach Mode': s.attachMode = value; return undefined;
    case 'Device Mode': case 'Datapath Mode': s.deviceMode = value; return undefined;
    case 'Masquerading': {
      const masq = masqueradingFromText(value);
      if (masq === undefined) return `unknown masquerading mode "${firstWord(value)}"`;
      s.masquerading = masq;
      return undefined;
    }
    case 'NodeMonitor': {
      if (value === 'Disabled') { s.nodeMonitor = { enabled: false }; return undefined; }
      const m = NODE_MONITOR.exec(value);
      if (m === null) return 'NodeMonitor: neither Disabled nor "Listening for events on N CPUs"';
      s.nodeMonitor = { enabled: true, cpus: Number(m[1]) };
      return undefined;
    }
    case 'Cluster health': {
      const m = CLUSTER_HEALTH.exec(value);
      s.clusterHealth = m === null ? { detail: value } : { reachable: Number(m[1]), total: Number(m[2]), detail: value };
      return undefined;
    }
    case 'IPAM': s.ipamSummary = value.replace(TRAILING_COMMA, ''); return undefined;
    case 'IPv4 address pool': case 'IPv6 address pool': {
      const part = `${key.slice(0, 4)}: ${value}`;
      s.ipamSummary = s.ipamSummary === undefined ? part : `${s.ipamSummary}, ${part}`;
      return undefined;
    }
    case 'Encryption': {
      const state = componentState(value);
      s.encryption = state.detail === undefined ? { mode: state.state } : { mode: state.state, detail: state.detail };
      return undefined;
    }
    case 'Controller Status': {
      const m = CONTROLLERS.exec(value);
      if (m === null) return 'Controller Status: without "N/M healthy"';
      s.controllers = { healthy: Number(m[1]), total: Number(m[2]) };
      return undefined;
    }
    default:
      // The other known keys (Host firewall, SRv6, BandwidthManager, Proxy Status, ...) are kept as printed in `fields`.
      return undefined;
  }
}

/** Lines under a top-level key: tables, trees and lists that only add detail to the key above. */
function applySectionLine(s: CiliumStatus, section: string, text: string): string | undefined {
  if (section === 'NodeMonitor') {
    const m = LOST_EVENTS.exec(text);
    if (m === null) return 'unexpected line under NodeMonitor';
    const monitor: NodeMonitorStatus = s.nodeMonitor ?? { enabled: true };
    s.nodeMonitor = { ...monitor, lost: Number(m[1]), unknown: Number(m[2]) };
  }
  return undefined;
}

function setHostRouting(s: CiliumStatus, value: string): string | undefined {
  if (value !== 'BPF' && value !== 'Legacy') return `unknown host routing mode "${value}"`;
  s.hostRouting = value;
  return undefined;
}

function componentState(value: string): ComponentState {
  const m = STATE_AND_DETAIL.exec(value);
  if (m === null) return { state: value };
  return m[2] === '' ? { state: m[1] } : { state: m[1], detail: m[2] };
}

function firstWord(value: string): string {
  return value.split(WHITESPACE, 1)[0];
}

/** `Strict [ens33 192.168.2.61 (Direct Routing)]`, `True [eth0 10.0.0.1 fe80::1 (Direct Routing), eth1 ...]`, `Disabled`. */
function kubeProxyReplacementFromText(value: string): KubeProxyReplacementStatus | undefined {
  const mode = firstWord(value) as KubeProxyReplacementMode;
  if (!KPR_MODES.has(mode)) return undefined;
  const devices: KubeProxyReplacementStatus['devices'] = [];
  const open = value.indexOf('[');
  const close = value.lastIndexOf(']');
  if (open >= 0 && close > open) {
    for (const part of value.slice(open + 1, close).split(',')) {
      const directRouting = part.includes('(Direct Routing)');
      const words = part.replace('(Direct Routing)', '').trim().split(WHITESPACE).filter((w) => w !== '');
      if (words.length === 0) continue;
      devices.push({ name: words[0], ips: words.slice(1), directRouting });
    }
  }
  return { mode, devices };
}

/** `BPF [ens33] 10.0.1.0/24 [IPv4: Enabled, IPv6: Disabled]`, `IPTables [IPv4: ..., IPv6: ...]`, `Disabled`. */
function masqueradingFromText(value: string): MasqueradingStatus | undefined {
  const word = firstWord(value);
  if (word !== 'BPF' && word !== 'IPTables' && word !== 'Enabled' && word !== 'Disabled') return undefined;
  const masq: MasqueradingStatus = { mode: word };
  if (value.includes('(ip-masq-agent)')) masq.ipMasqAgent = true;
  const protocols = MASQ_PROTOCOLS.exec(value);
  if (protocols !== null) {
    masq.ipv4 = protocols[1] === 'Enabled';
    masq.ipv6 = protocols[2] === 'Enabled';
  }
  const devices = MASQ_BPF_DEVICES.exec(value);
  if (devices !== null) {
    masq.devices = devices[1].split(',').map((d) => d.trim()).filter((d) => d !== '');
    if (devices[2] !== '' && !devices[2].startsWith('[')) masq.snatExclusionCidr = devices[2];
  }
  return masq;
}

// ---- JSON ---------------------------------------------------------------------------------------

/**
 * parseCiliumStatusJson: `cilium-dbg status -o json` (models.StatusResponse). Reads both the newer
 * `routing` object (intra-/inter-host-routing-mode, tunnel-protocol) and the older `host-routing.mode`.
 */
export function parseCiliumStatusJson(text: string): CiliumStatusResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { status: null, error: `not valid JSON: ${(e as Error).message}`, unparsed: [] };
  }
  const sr = record(value);
  if (sr === undefined) return { status: null, error: 'status JSON is not an object', unparsed: [] };
  // cilium-cli's `cilium status -o json` describes the cluster (daemon_sets, image_count, ...).
  if ('daemon_sets' in sr || 'image_count' in sr || 'cilium_status' in sr) return { status: null, error: CLI_REFUSAL, unparsed: [] };
  const s: CiliumStatus = { fields: {} };
  for (const [k, v] of Object.entries(sr)) s.fields[k] = typeof v === 'string' ? v : jsonText(v);
  const problems: string[] = [];

  const cilium = jsonState(sr.cilium);
  if (cilium !== undefined) {
    s.agent = cilium;
    const version = VERSION.exec(cilium.detail ?? '');
    if (version !== null) {
      s.version = version[1];
      if (version[2] !== undefined) s.versionDetail = version[2];
    }
  }
  const kubernetes = jsonState(sr.kubernetes);
  if (kubernetes !== undefined) s.kubernetes = kubernetes;
  const kvstore = jsonState(sr.kvstore);
  if (kvstore !== undefined) s.kvstore = kvstore;
  const health = jsonState(record(sr.cluster)?.ciliumHealth);
  if (health !== undefined) s.healthDaemon = health;
  const hubble = jsonState(sr.hubble);
  if (hubble !== undefined) s.hubble = hubble;

  const kpr = record(sr['kube-proxy-replacement']);
  if (kpr !== undefined) {
    const mode = str(kpr.mode);
    if (mode !== undefined && KPR_MODES.has(mode as KubeProxyReplacementMode)) {
      s.kubeProxyReplacement = { mode: mode as KubeProxyReplacementMode, devices: kprDevicesFromJson(kpr) };
    } else if (mode !== undefined) {
      problems.push(`unknown kube-proxy-replacement.mode "${mode}"`);
    }
  }

  const routing = record(sr.routing);
  const intra = str(routing?.['intra-host-routing-mode']) ?? str(record(sr['host-routing'])?.mode);
  if (intra !== undefined) {
    const problem = setHostRouting(s, intra);
    if (problem !== undefined) problems.push(problem);
  }
  const inter = str(routing?.['inter-host-routing-mode']);
  if (inter === 'Tunnel' || inter === 'Native') {
    s.routingNetwork = inter;
    // The agent fills tunnel-protocol in native mode too; the text shows it only for Tunnel.
    const proto = str(routing?.['tunnel-protocol']);
    if (inter === 'Tunnel' && proto !== undefined && proto !== '') s.tunnelProtocol = proto;
  } else if (inter !== undefined) {
    problems.push(`unknown routing.inter-host-routing-mode "${inter}"`);
  }

  const masq = record(sr.masquerading);
  if (masq !== undefined) s.masquerading = masqueradingFromJson(masq);

  const monitor = record(sr.nodeMonitor);
  // FormatStatusResponse prints `NodeMonitor: Disabled` when the object is absent.
  s.nodeMonitor = monitor === undefined ? { enabled: false } : nodeMonitorFromJson(monitor);

  const ipam = str(record(sr.ipam)?.status);
  if (ipam !== undefined) s.ipamSummary = ipam.replace(TRAILING_COMMA, '');
  const enc = record(sr.encryption);
  const encMode = str(enc?.mode);
  if (encMode !== undefined) {
    const msg = str(enc?.msg);
    s.encryption = msg === undefined || msg === '' ? { mode: encMode } : { mode: encMode, detail: msg };
  }
  const controllers = sr.controllers;
  if (Array.isArray(controllers)) {
    const failing = controllers.filter((c) => (num(record(record(c)?.status)?.['consecutive-failure-count']) ?? 0) > 0).length;
    s.controllers = { healthy: controllers.length - failing, total: controllers.length };
  }
  return { status: s, unparsed: problems.map((reason, k) => ({ line: k + 1, text: '', reason })) };
}

function kprDevicesFromJson(kpr: Record<string, unknown>): KubeProxyReplacementStatus['devices'] {
  const direct = str(kpr.directRoutingDevice);
  const list = Array.isArray(kpr.deviceList) ? kpr.deviceList : [];
  if (list.length > 0) {
    return list.flatMap((d) => {
      const dev = record(d);
      const name = str(dev?.name);
      if (name === undefined) return [];
      const ips = asStringArray(dev?.ip) ?? [];
      return [{ name, ips, directRouting: name === direct }];
    });
  }
  const names = asStringArray(kpr.devices) ?? [];
  return names.map((name) => ({ name, ips: [], directRouting: name === direct }));
}

/** Mirrors FormatStatusResponse's masquerading line so text and JSON give the same model. */
function masqueradingFromJson(m: Record<string, unknown>): MasqueradingStatus {
  const protocols = record(m.enabledProtocols);
  if (protocols === undefined) return { mode: m.enabled === true ? 'Enabled' : 'Disabled' };
  const ipv4 = protocols.ipv4 === true;
  const ipv6 = protocols.ipv6 === true;
  if (!ipv4 && !ipv6) return { mode: 'Disabled', ipv4, ipv6 };
  const mode = str(m.mode);
  const out: MasqueradingStatus = { mode: mode === 'BPF' ? 'BPF' : mode === 'iptables' ? 'IPTables' : 'Enabled', ipv4, ipv6 };
  if (m['ip-masq-agent'] === true) out.ipMasqAgent = true;
  const cidr = str(m['snat-exclusion-cidr-v4']) ?? str(m['snat-exclusion-cidr']);
  if (out.mode === 'BPF' && cidr !== undefined && cidr !== '') out.snatExclusionCidr = cidr;
  return out;
}

function nodeMonitorFromJson(m: Record<string, unknown>): NodeMonitorStatus {
  const out: NodeMonitorStatus = { enabled: true };
  const cpus = num(m.cpus);
  if (cpus !== undefined) out.cpus = cpus;
  const lost = num(m.lost);
  if (lost !== undefined) out.lost = lost;
  const unknown = num(m.unknown);
  if (unknown !== undefined) out.unknown = unknown;
  return out;
}

/** A field's JSON text; JSON.stringify recurses once per level and overflows on hostile nesting. */
function jsonText(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch {
    return '(nested too deep to show)';
  }
}

/** models.Status / HubbleStatus / K8sStatus: `{state, msg}`. */
function jsonState(v: unknown): ComponentState | undefined {
  const o = record(v);
  const state = str(o?.state);
  if (state === undefined) return undefined;
  const msg = str(o?.msg);
  return msg === undefined || msg === '' ? { state } : { state, detail: msg };
}
