/**
 * The lab's kubeconfig: one cluster verified with the lab CA, one user and context per token
 * (`lab-admin` current, `lab-noexec` for RBAC denials).
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

export const CLUSTER_NAME = 'dplab';

export function kubeconfigText(server: string, caFile: string, tokens: Record<'admin' | 'noexec', string>): string {
  const contexts = (['admin', 'noexec'] as const).map((role) => ({
    name: `lab-${role}`,
    context: { cluster: CLUSTER_NAME, user: `lab-${role}`, namespace: 'default' },
  }));
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [{ name: CLUSTER_NAME, cluster: { server, 'certificate-authority': caFile } }],
    users: (['admin', 'noexec'] as const).map((role) => ({ name: `lab-${role}`, user: { token: tokens[role] } })),
    contexts,
    'current-context': 'lab-admin',
  });
}

/** Writes the kubeconfig (0600: it holds the tokens). */
export function writeKubeconfig(path: string, server: string, caFile: string, tokens: Record<'admin' | 'noexec', string>): void {
  writeFileSync(path, kubeconfigText(server, caFile, tokens), { mode: 0o600 });
  chmodSync(path, 0o600);
}
