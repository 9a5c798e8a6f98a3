import type { HopReport, ReportCluster, ReportDropExplanation, ReportEndpoint, ReportEvidence, ReportFlow, ReportFlowEnd, ReportHop, ReportInput, ReportPacket, ReportPolicyEndpoint, ReportPolicyMatch, ReportPolicyPeer, ReportTranslation, ReportTunnel } from '../core/model/report.js';

/**
 * A key list that must name every key of T: adding a field to the model without placing it here
 * is a compile error naming the missing key.
 */
type CompleteKeys<T, L extends readonly (keyof T)[]> = [Exclude<keyof T, L[number]>] extends [never]
  ? L
  : { missingKeys: Exclude<keyof T, L[number]> };

function keysOf<T>() {
  return <const L extends readonly (keyof T)[]>(keys: L & CompleteKeys<T, L>): readonly string[] => keys as readonly string[];
}

type Sample = NonNullable<ReportInput['notUnderstoodSamples']>[number];

// The schemaVersion 1 contract's key order, written out so that reordering the model's interfaces
// or the code that builds a report cannot reorder what json and yaml consumers see.
const REPORT = keysOf<HopReport>()(['schemaVersion', 'cluster', 'inputs', 'endpoints', 'flows', 'warnings']);
const CLUSTER = keysOf<ReportCluster>()(['ciliumVersion', 'routingMode', 'tunnelProtocol', 'kubeProxyReplacement', 'hostRouting', 'masquerading', 'sources']);
const INPUT = keysOf<ReportInput>()(['name', 'tool', 'point', 'node', 'lines', 'understood', 'notUnderstood', 'status', 'notUnderstoodSamples']);
const SAMPLE = keysOf<Sample>()(['line', 'text', 'reason']);
const ENDPOINT = keysOf<ReportEndpoint>()(['pod', 'node', 'id', 'identity', 'ips', 'interface', 'ifindex', 'mac', 'hostMac', 'inferred', 'datapathDebug']);
const FLOW = keysOf<ReportFlow>()([
  'src', 'dst', 'srcIp', 'dstIp', 'protocol', 'direction', 'srcNode', 'dstNode', 'path', 'verdict', 'dropReason', 'dropPoint',
  'seenAt', 'notSeenAt', 'notObserved', 'packets', 'morePackets', 'flowHops', 'moreFlowHops', 'conclusions', 'evidence',
  'source', 'destination', 'translations', 'tunnel', 'outcome', 'outcomeReason', 'dropExplanation',
]);
const DROP_EXPLANATION = keysOf<ReportDropExplanation>()([
  'summary', 'reason', 'code', 'byPolicy', 'dropPoint', 'lastSeenAt', 'firstMissedAt', 'direction', 'enforcedBy',
  'source', 'destination', 'verdicts', 'policies', 'unknown',
]);
const POLICY_ENDPOINT = keysOf<ReportPolicyEndpoint>()(['endpointId', 'pod', 'node', 'identity']);
const POLICY_PEER = keysOf<ReportPolicyPeer>()(['ip', 'port', 'pod', 'identity', 'identityName', 'labels']);
const POLICY_MATCH = keysOf<ReportPolicyMatch>()(['policy', 'effect', 'detail']);
const FLOW_END = keysOf<ReportFlowEnd>()(['ip', 'port', 'namespace', 'pod', 'node', 'identity', 'endpointId', 'interface', 'external']);
const TRANSLATION = keysOf<ReportTranslation>()(['point', 'kind', 'from', 'to', 'evidence']);
const TUNNEL = keysOf<ReportTunnel>()(['protocol', 'vni', 'outer', 'evidence']);
const PACKET = keysOf<ReportPacket>()(['key', 'outcome', 'outcomeReason', 'dropPoint', 'hops']);
const HOP = keysOf<ReportHop>()(['point', 'tool', 'time', 'deltaUs', 'deltaNote', 'detail', 'match', 'facts']);
const EVIDENCE = keysOf<ReportEvidence>()(['claim', 'because']);

type Plain = { [key: string]: unknown };
type Reorder = (value: unknown) => unknown;

/**
 * Copies `value` with the listed keys first, in list order; keys the list does not know (a field
 * added at run time) follow in alphabetical order, so nothing is dropped and the order stays
 * stable. Undefined values are left out, as JSON.stringify would.
 */
function ordered(keys: readonly string[], inner: Partial<Record<string, Reorder>> = {}): Reorder {
  return (value) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    const source = value as Plain;
    const out: Plain = {};
    const extra = Object.keys(source).filter((k) => !keys.includes(k)).sort();
    for (const key of [...keys, ...extra]) {
      if (!Object.hasOwn(source, key) || source[key] === undefined) continue;
      const reorder = inner[key];
      out[key] = reorder ? reorder(source[key]) : source[key];
    }
    return out;
  };
}

function each(reorder: Reorder): Reorder {
  return (value) => (Array.isArray(value) ? value.map(reorder) : value);
}

/** Facts are a free-form map: sorted by key, as Go's encoding/json does for maps. */
const sortedFacts: Reorder = (value) => ordered([])(value);

const orderHop = ordered(HOP, { facts: sortedFacts });
const orderPacket = ordered(PACKET, { hops: each(orderHop) });
const orderFlow = ordered(FLOW, {
  packets: each(orderPacket),
  flowHops: each(orderHop),
  evidence: each(ordered(EVIDENCE)),
  source: ordered(FLOW_END),
  destination: ordered(FLOW_END),
  translations: each(ordered(TRANSLATION)),
  tunnel: ordered(TUNNEL),
  dropExplanation: ordered(DROP_EXPLANATION, {
    enforcedBy: ordered(POLICY_ENDPOINT),
    source: ordered(POLICY_PEER),
    destination: ordered(POLICY_PEER),
    policies: each(ordered(POLICY_MATCH)),
  }),
});
const orderInput = ordered(INPUT, { notUnderstoodSamples: each(ordered(SAMPLE)) });
const orderReportValue = ordered(REPORT, {
  cluster: ordered(CLUSTER),
  inputs: each(orderInput),
  endpoints: each(ordered(ENDPOINT)),
  flows: each(orderFlow),
});

/** orderReport returns a plain copy of the report whose keys follow the contract's order, schemaVersion first. */
export function orderReport(report: HopReport): Plain {
  return orderReportValue(report) as Plain;
}
