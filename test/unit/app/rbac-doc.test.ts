/**
 * docs/rbac.yaml grants every permission doctor checks (src/app/doctor.ts PERMISSIONS), where
 * doctor checks it: cluster-wide reads, the agents' namespace, the probe namespace, and the pods'
 * namespace through the optional pod-exec ClusterRole bound per namespace.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { PERMISSIONS } from '../../../src/app/doctor.js';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
interface RbacObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: Rule[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string }[];
}

const objects = parseAllDocuments(readFileSync('docs/rbac.yaml', 'utf8'))
  .map((d) => d.toJS() as RbacObject | null)
  .filter((o): o is RbacObject => o !== null);

/** The namespaces where a (Cluster)Role's rules apply through its bindings; '*' for cluster-wide. */
function scopesOf(role: RbacObject): string[] {
  if (role.kind === 'Role') return objects.some((b) => b.kind === 'RoleBinding' && b.roleRef?.name === role.metadata.name && b.metadata.namespace === role.metadata.namespace) ? [role.metadata.namespace ?? ''] : [];
  const cluster = objects.some((b) => b.kind === 'ClusterRoleBinding' && b.roleRef?.name === role.metadata.name) ? ['*'] : [];
  const namespaced = objects.filter((b) => b.kind === 'RoleBinding' && b.roleRef?.kind === 'ClusterRole' && b.roleRef.name === role.metadata.name).map((b) => b.metadata.namespace ?? '');
  return [...cluster, ...namespaced];
}

function granted(verb: string, resource: string, group: string, namespace: string): boolean {
  return objects
    .filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole')
    .some((role) => {
      const scopes = scopesOf(role);
      if (!scopes.includes('*') && !scopes.includes(namespace)) return false;
      return (role.rules ?? []).some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
    });
}

describe('docs/rbac.yaml', () => {
  it('is valid RBAC YAML with one subject to replace', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual(['ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'RoleBinding']);
    expect(new Set(objects.flatMap((o) => o.subjects ?? []).map((s) => `${s.kind}/${s.name}`))).toEqual(new Set(['User/jane']));
  });

  it.each(PERMISSIONS.map((p) => [`${p.verb} ${p.resource}${p.subresource ? `/${p.subresource}` : ''} (${p.where})`, p] as const))('grants %s', (_name, p) => {
    const namespace = p.where === 'agents' ? 'kube-system' : p.where === 'probes' ? 'datapath-probes' : p.where === 'pods' ? 'default' : '*';
    const resource = p.subresource ? `${p.resource}/${p.subresource}` : p.resource;
    expect(granted(p.verb, resource, p.group ?? '', namespace)).toBe(true);
  });

  it('grants nothing doctor does not ask for (no wildcard, no secrets)', () => {
    const rules = objects.flatMap((o) => o.rules ?? []);
    expect(rules.flatMap((r) => [...r.verbs, ...r.resources, ...r.apiGroups])).not.toContain('*');
    const asked = new Set(PERMISSIONS.map((p) => `${p.group ?? ''}|${p.subresource ? `${p.resource}/${p.subresource}` : p.resource}|${p.verb}`));
    const extra = rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}|${res}|${v}`)))).filter((x) => !asked.has(x));
    expect(extra).toEqual([]);
  });
});

describe('docs/rbac.yaml and exec', () => {
  it('grants both get and create on pods/exec wherever it grants exec (WebSocket is get, SPDY and 1.35 create)', () => {
    const execRules = objects.flatMap((o) => o.rules ?? []).filter((r) => r.resources.includes('pods/exec'));
    expect(execRules.length).toBe(3);
    for (const r of execRules) expect([...r.verbs].sort()).toEqual(['create', 'get']);
  });
});
