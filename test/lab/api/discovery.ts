/**
 * Discovery documents (legacy, unaggregated: kubectl falls back to them when the response is plain
 * application/json) and /version. Minor "32" makes the gcloud kubectl dispatcher run its built-in
 * 1.32 client, which execs over WebSocket (notes/protocols.md §0).
 */
import { KUBELET_VERSION } from './objects.js';
import { POLICY_INFO, POLICY_RESOURCES } from './policies.js';

export function versionInfo(): Record<string, string> {
  return {
    major: '1',
    minor: '32',
    gitVersion: KUBELET_VERSION,
    gitCommit: '9894294ef13a5b32803e3ca2c0d620a088cc84d1',
    gitTreeState: 'clean',
    buildDate: '2025-04-22T16:00:00Z',
    goVersion: 'go1.23.6',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

interface ApiResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
}

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

/** The policy resources of a group, as their CRDs (cilium.io) or kube-apiserver (networking.k8s.io) list them. */
function policyResources(group: string): ApiResource[] {
  return POLICY_RESOURCES.filter((r) => POLICY_INFO[r].group === group).map((r) => ({
    name: r,
    singularName: POLICY_INFO[r].singular,
    namespaced: POLICY_INFO[r].namespaced,
    kind: POLICY_INFO[r].kind,
    verbs: WRITE,
    shortNames: POLICY_INFO[r].shortNames,
    ...(group === 'cilium.io' ? { categories: ['cilium', 'ciliumpolicy'] } : {}),
  }));
}

const CORE_RESOURCES: ApiResource[] = [
  { name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', verbs: READ, shortNames: ['ns'] },
  { name: 'nodes', singularName: 'node', namespaced: false, kind: 'Node', verbs: READ, shortNames: ['no'] },
  {
    name: 'pods',
    singularName: 'pod',
    namespaced: true,
    kind: 'Pod',
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'watch'],
    shortNames: ['po'],
    categories: ['all'],
  },
  { name: 'events', singularName: 'event', namespaced: true, kind: 'Event', verbs: READ, shortNames: ['ev'] },
  { name: 'pods/exec', singularName: '', namespaced: true, kind: 'PodExecOptions', verbs: ['create', 'get'] },
  { name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] },
  { name: 'services', singularName: 'service', namespaced: true, kind: 'Service', verbs: READ, shortNames: ['svc'], categories: ['all'] },
];

/** Groups beyond the core group, with their one version and resources. */
const GROUPS: Record<string, { version: string; resources: ApiResource[] }> = {
  'authorization.k8s.io': {
    version: 'v1',
    resources: [
      { name: 'selfsubjectaccessreviews', singularName: 'selfsubjectaccessreview', namespaced: false, kind: 'SelfSubjectAccessReview', verbs: ['create'] },
    ],
  },
  'discovery.k8s.io': {
    version: 'v1',
    resources: [{ name: 'endpointslices', singularName: 'endpointslice', namespaced: true, kind: 'EndpointSlice', verbs: READ }],
  },
  'cilium.io': {
    version: 'v2',
    resources: [
      {
        name: 'ciliumendpoints',
        singularName: 'ciliumendpoint',
        namespaced: true,
        kind: 'CiliumEndpoint',
        verbs: READ,
        shortNames: ['cep', 'ciliumep'],
        categories: ['cilium'],
      },
      ...policyResources('cilium.io'),
    ],
  },
  'networking.k8s.io': { version: 'v1', resources: policyResources('networking.k8s.io') },
};

export function coreVersions(): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'] };
}

export function groupList(): Record<string, unknown> {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: Object.keys(GROUPS).map((name) => groupDocument(name)),
  };
}

function groupDocument(name: string): Record<string, unknown> {
  const gv = { groupVersion: `${name}/${GROUPS[name].version}`, version: GROUPS[name].version };
  return { name, versions: [gv], preferredVersion: gv };
}

/** /apis/<group>: the APIGroup, or undefined for an unknown group. */
export function group(name: string): Record<string, unknown> | undefined {
  return GROUPS[name] ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDocument(name) } : undefined;
}

/** /api/v1 or /apis/<group>/<version>: the APIResourceList, or undefined when not served. */
export function resourceList(groupName: string, version: string): Record<string, unknown> | undefined {
  const resources = groupName === '' ? (version === 'v1' ? CORE_RESOURCES : undefined) : GROUPS[groupName]?.version === version ? GROUPS[groupName].resources : undefined;
  if (!resources) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: groupName === '' ? version : `${groupName}/${version}`,
    resources,
  };
}

/**
 * The OpenAPI v3 documents kubectl reads before it writes: the root names one document per
 * group-version of the writable resources, and each document declares the `fieldValidation`
 * query parameter on their PATCH, so kubectl 1.27+ leaves validation to the server
 * (cli-runtime's queryParamVerifierV3) instead of downloading the v2 schema the lab does not
 * serve. Only what that check reads; no schemas.
 */
export function openapiV3(path: string): Record<string, unknown> | undefined {
  const writable = POLICY_RESOURCES.map((r) => ({ resource: r, ...POLICY_INFO[r] }));
  const gvPath = (g: string, v: string): string => `apis/${g}/${v}`;
  const groups = [...new Set(writable.map((w) => gvPath(w.group, w.version)))];
  if (path === '/openapi/v3') {
    return { paths: Object.fromEntries(groups.map((gv) => [gv, { serverRelativeURL: `/openapi/v3/${gv}?hash=${gv.replace(/\W/g, '')}` }])) };
  }
  const gv = path.replace(/^\/openapi\/v3\//, '');
  const resources = writable.filter((w) => gvPath(w.group, w.version) === gv);
  if (resources.length === 0) return undefined;
  const param = { name: 'fieldValidation', in: 'query', description: 'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields.', schema: { type: 'string', uniqueItems: true } };
  const paths: Record<string, unknown> = {};
  for (const w of resources) {
    const base = `/${gv}/${w.namespaced ? 'namespaces/{namespace}/' : ''}${w.resource}`;
    const gvk = { group: w.group, version: w.version, kind: w.kind };
    paths[base] = { post: { operationId: `create${w.kind}`, parameters: [param], 'x-kubernetes-action': 'post', 'x-kubernetes-group-version-kind': gvk } };
    paths[`${base}/{name}`] = { patch: { operationId: `patch${w.kind}`, parameters: [param], 'x-kubernetes-action': 'patch', 'x-kubernetes-group-version-kind': gvk } };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.4' }, paths, components: {} };
}
