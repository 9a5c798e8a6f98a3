/**
 * Discovery documents (legacy, unaggregated: kubectl falls back to them when the response is plain
 * application/json) and /version. Minor "32" makes the gcloud kubectl dispatcher run its built-in
 * 1.32 client, which execs over WebSocket (notes/protocols.md §0).
 */
import { KUBELET_VERSION } from './objects.js';

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
  { name: 'pods/exec', singularName: '', namespaced: true, kind: 'PodExecOptions', verbs: ['create', 'get'] },
  { name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] },
];

/** Groups beyond the core group, with their one version and resources. */
const GROUPS: Record<string, { version: string; resources: ApiResource[] }> = {
  'authorization.k8s.io': {
    version: 'v1',
    resources: [
      { name: 'selfsubjectaccessreviews', singularName: 'selfsubjectaccessreview', namespaced: false, kind: 'SelfSubjectAccessReview', verbs: ['create'] },
    ],
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
    ],
  },
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
