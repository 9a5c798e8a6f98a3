import { DatapathError, ForbiddenError } from '../core/errors.js';
import { POLICY_RESOURCES, type KubePort, type PolicyResource } from './ports.js';

/** What a trace read of the cluster's network policies: the objects, the resources listed, and what could not be. */
export interface PolicyRead {
  objects: unknown[];
  read: PolicyResource[];
  /** One entry per resource not read: `resource.group: why`. */
  notRead: string[];
  /** The one line a person sees about the resources not read; absent when all were read. */
  warning?: string;
}

/** POLICY_FILE: the saved policy objects, a `kubectl get -o json`-style List that analyze detects. */
export const POLICY_FILE = 'policies.json';

/**
 * readPolicies lists CiliumNetworkPolicies, CiliumClusterwideNetworkPolicies and NetworkPolicies in
 * every namespace, each on its own: one the RBAC refuses leaves the others, and the explanation of
 * a drop then says which it could not read.
 */
export async function readPolicies(kube: KubePort): Promise<PolicyRead> {
  const resources = Object.keys(POLICY_RESOURCES) as PolicyResource[];
  const answers = await Promise.allSettled(resources.map((r) => kube.listPolicyObjects(r)));
  const out: PolicyRead = { objects: [], read: [], notRead: [] };
  const forbidden: string[] = [];
  const failed: string[] = [];
  answers.forEach((a, i) => {
    const name = `${resources[i]}.${POLICY_RESOURCES[resources[i]].group}`;
    if (a.status === 'fulfilled') {
      out.read.push(resources[i]);
      out.objects.push(...a.value);
      return;
    }
    if (!(a.reason instanceof DatapathError)) throw a.reason;
    const why = a.reason instanceof ForbiddenError ? 'forbidden by RBAC' : a.reason.message;
    out.notRead.push(`${name}: ${why}`);
    if (a.reason instanceof ForbiddenError) forbidden.push(name);
    else failed.push(`${name} (${a.reason.message})`);
  });
  const parts = [
    ...(forbidden.length ? [`listing ${forbidden.join(', ')} is forbidden by RBAC (docs/rbac.yaml grants list on them)`] : []),
    ...(failed.length ? [`could not list ${failed.join(', ')}`] : []),
  ];
  if (parts.length) out.warning = `network policies not read: ${parts.join('; ')}: a policy drop's explanation says which policies it could not read`;
  return out;
}

/** The policy objects as the file a `--save` directory keeps (and analyze reads back). */
export function policyFile(read: PolicyRead): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: read.objects }, null, 2)}\n`);
}
