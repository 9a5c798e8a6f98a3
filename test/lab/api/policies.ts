/**
 * Network policy objects through the lab API: cilium.io/v2 CiliumNetworkPolicy and
 * CiliumClusterwideNetworkPolicy, networking.k8s.io/v1 NetworkPolicy. Create (POST), replace
 * (PUT), patch (PATCH: what `kubectl apply` sends for an existing object, JSON merge patch for
 * the CRDs and strategic merge patch for NetworkPolicy, whose lists have no merge keys, so both
 * replace lists), delete; get/list/watch are the generic ones. NetworkPolicy is defaulted as
 * kube-apiserver does (policyTypes, protocol TCP). Every change reaches the emulated agent
 * (PolicyAgent below), which resolves the policies and writes the nodes' policy files.
 */
import { randomUUID } from 'node:crypto';
import type { LabState } from '../state.js';
import { policyEndpoints, writePolicy } from '../policy/agent-files.js';
import type { PolicyObject } from '../policy/resolve.js';
import type { KubeObject } from './objects.js';
import { alreadyExists, badRequest, invalid, notFound, unsupportedMediaType } from './status.js';
import type { ObjectStore, Resource } from './store.js';

export const POLICY_RESOURCES = ['ciliumnetworkpolicies', 'ciliumclusterwidenetworkpolicies', 'networkpolicies'] as const;
export type PolicyResource = (typeof POLICY_RESOURCES)[number];

export const POLICY_INFO: Record<PolicyResource, { group: string; version: string; namespaced: boolean; kind: PolicyObject['kind']; singular: string; shortNames: string[] }> = {
  ciliumnetworkpolicies: { group: 'cilium.io', version: 'v2', namespaced: true, kind: 'CiliumNetworkPolicy', singular: 'ciliumnetworkpolicy', shortNames: ['cnp', 'ciliumnp'] },
  ciliumclusterwidenetworkpolicies: { group: 'cilium.io', version: 'v2', namespaced: false, kind: 'CiliumClusterwideNetworkPolicy', singular: 'ciliumclusterwidenetworkpolicy', shortNames: ['ccnp'] },
  networkpolicies: { group: 'networking.k8s.io', version: 'v1', namespaced: true, kind: 'NetworkPolicy', singular: 'networkpolicy', shortNames: ['netpol'] },
};

export function isPolicyResource(resource: string): resource is PolicyResource {
  return (POLICY_RESOURCES as readonly string[]).includes(resource);
}

function timestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** What kube-apiserver's defaulting adds to a NetworkPolicy (pkg/apis/networking/v1/defaults.go). */
function defaultNetworkPolicy(spec: Record<string, unknown>): void {
  for (const field of ['ingress', 'egress'] as const) {
    for (const rule of (spec[field] as { ports?: { protocol?: string }[] }[] | undefined) ?? []) {
      for (const p of rule.ports ?? []) p.protocol ??= 'TCP';
    }
  }
  if (!Array.isArray(spec.policyTypes)) spec.policyTypes = ['Ingress', ...(spec.egress ? ['Egress'] : [])];
  spec.podSelector ??= {};
}

function validate(resource: PolicyResource, body: KubeObject, name: string): void {
  const info = POLICY_INFO[resource];
  const causes: Parameters<typeof invalid>[2] = [];
  if (!name) causes.push({ field: 'metadata.name', message: 'Required value: name or generateName is required', reason: 'FieldValueRequired' });
  if (body.kind !== undefined && body.kind !== info.kind) throw badRequest(`the kind of the object (${body.kind}) does not match the resource ${resource}`);
  const spec = body.spec as Record<string, unknown> | undefined;
  const specs = (body as { specs?: unknown }).specs;
  if (info.kind === 'NetworkPolicy') {
    if (!spec || typeof spec !== 'object') causes.push({ field: 'spec', message: 'Required value', reason: 'FieldValueRequired' });
  } else if (!spec && !Array.isArray(specs)) {
    causes.push({ field: 'spec', message: 'Required value: spec or specs', reason: 'FieldValueRequired' });
  } else {
    for (const s of [...(spec ? [spec] : []), ...(Array.isArray(specs) ? specs : [])] as Record<string, unknown>[]) {
      if (!s.endpointSelector && !s.nodeSelector) causes.push({ field: 'spec.endpointSelector', message: 'Required value: endpointSelector or nodeSelector', reason: 'FieldValueRequired' });
    }
  }
  if (causes.length > 0) {
    // apierrors.NewInvalid(GroupKind, ...): the details carry the Kind and group, which kubectl prints.
    const err = invalid(`${info.kind}.${info.group}`, name, causes);
    err.status.details = { ...err.status.details, kind: info.kind, group: info.group };
    throw err;
  }
}

/** The stored form of a client's object: metadata the server owns, defaults, Cilium's Valid condition. */
function stored(resource: PolicyResource, namespace: string | undefined, body: KubeObject, previous?: KubeObject): KubeObject {
  const info = POLICY_INFO[resource];
  const name = body.metadata?.name ?? previous?.metadata.name ?? '';
  validate(resource, body, name);
  const object = structuredClone(body) as KubeObject & { specs?: unknown };
  object.apiVersion = `${info.group}/${info.version}`;
  object.kind = info.kind;
  const specChanged = !previous || JSON.stringify(previous.spec) !== JSON.stringify(object.spec) || JSON.stringify((previous as { specs?: unknown }).specs) !== JSON.stringify(object.specs);
  object.metadata = {
    ...object.metadata,
    name,
    ...(info.namespaced ? { namespace } : {}),
    uid: previous?.metadata.uid ?? randomUUID(),
    creationTimestamp: previous?.metadata.creationTimestamp ?? timestamp(),
    generation: (previous?.metadata.generation ?? 0) + (specChanged ? 1 : 0),
  };
  if (!info.namespaced) delete object.metadata.namespace;
  delete object.metadata.resourceVersion;
  if (info.kind === 'NetworkPolicy') defaultNetworkPolicy(object.spec);
  else object.status = { conditions: [{ type: 'Valid', status: 'True', lastTransitionTime: previous?.status?.conditions?.[0]?.lastTransitionTime ?? timestamp(), message: 'Policy validation succeeded' }] };
  return object;
}

/** RFC 7386 JSON merge patch (also what a strategic merge patch does to objects without merge keys). */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (k.startsWith('$')) continue; // strategic merge directives ($setElementOrder, $retainKeys, $patch)
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

const PATCH_TYPES = ['application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/json-patch+json'];

/** A write to a policy resource: [HTTP code, body]. */
export function writePolicyObject(
  store: ObjectStore,
  resource: PolicyResource,
  method: string,
  namespace: string | undefined,
  name: string | undefined,
  contentType: string,
  body: unknown,
): [number, unknown] {
  const info = POLICY_INFO[resource];
  const ns = info.namespaced ? namespace : undefined;
  if (info.namespaced && namespace !== undefined && !store.get('namespaces', undefined, namespace)) throw notFound('', 'namespaces', namespace);
  if (method === 'POST' && !name) {
    const obj = body as KubeObject | undefined;
    if (!obj || typeof obj !== 'object') throw badRequest('the body of the request was empty');
    if (info.namespaced && obj.metadata?.namespace && obj.metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const candidate = stored(resource, ns, obj);
    if (store.get(resource, ns, candidate.metadata.name)) throw alreadyExists(info.group, resource, candidate.metadata.name);
    return [201, store.put(resource, candidate)];
  }
  if (!name) throw badRequest(`${method} needs a name`);
  const current = store.get(resource, ns, name);
  if (!current) throw notFound(info.group, resource, name);
  if (method === 'DELETE') return [200, store.remove(resource, ns, name)];
  if (method === 'PUT') return [200, store.put(resource, stored(resource, ns, body as KubeObject, current))];
  if (method === 'PATCH') {
    const type = contentType.split(';')[0].trim();
    if (!PATCH_TYPES.includes(type) || type === 'application/json-patch+json') throw unsupportedMediaType(type || '(none)');
    const next = mergePatch(current, body) as KubeObject;
    return [200, store.put(resource, stored(resource, ns, next, current))];
  }
  throw badRequest(`${method} is not served for ${resource}`);
}

/**
 * The emulated agent's policy watcher (EMULATED: the Cilium agent watches the same three
 * resources): after every change of a policy object it resolves all policies again and writes
 * the nodes' policy files, which the lab-agents load into their BPF maps within 200 ms.
 */
export class PolicyAgent {
  private revision = 1;
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: ObjectStore,
    private readonly state: () => LabState,
    private readonly log: (line: string) => void,
  ) {
    this.unsubscribe = store.subscribe((e) => {
      if (isPolicyResource(e.resource) && !this.timer) this.timer = setTimeout(() => this.write(), 10);
    });
  }

  private write(): void {
    this.timer = undefined;
    const state = this.state();
    const policies: PolicyObject[] = POLICY_RESOURCES.flatMap((r) =>
      this.store.list(r as Resource).map((o) => ({
        kind: POLICY_INFO[r].kind,
        ...(POLICY_INFO[r].namespaced ? { namespace: o.metadata.namespace } : {}),
        name: o.metadata.name,
        uid: o.metadata.uid,
        spec: o.spec,
        ...((o as { specs?: unknown[] }).specs ? { specs: (o as { specs?: unknown[] }).specs } : {}),
      })),
    );
    const namespaceLabels = Object.fromEntries(this.store.list('namespaces').map((n) => [n.metadata.name, n.metadata.labels ?? {}]));
    try {
      this.revision++;
      writePolicy(state.dir, state.nodes.map((n) => n.name), { policies, endpoints: policyEndpoints(state), namespaceLabels }, this.revision);
    } catch (e) {
      this.log(`policy agent: could not write the policy: ${(e as Error).message}`);
    }
  }

  stop(): void {
    this.unsubscribe();
    if (this.timer) clearTimeout(this.timer);
  }
}
