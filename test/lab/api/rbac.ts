/**
 * Authentication (bearer tokens) and a small RBAC model. The same rules answer real requests and
 * SelfSubjectAccessReviews, so `doctor` sees exactly what a trace would be allowed to do.
 */

export interface LabUser {
  name: string;
  groups: string[];
  rules: PolicyRule[];
}

/** One RBAC PolicyRule: resources may name subresources ("pods/exec"); "*" matches anything. */
export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  nonResourceURLs?: string[];
}

/** What a request asks to do, as the apiserver's authorizer sees it. */
export interface RequestAttributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

const DISCOVERY_URLS = ['/api', '/api/*', '/apis', '/apis/*', '/version', '/version/', '/healthz', '/livez', '/readyz', '/openapi', '/openapi/*'];

/** What every authenticated user may do (system:basic-user, system:discovery). */
const AUTHENTICATED_RULES: PolicyRule[] = [
  { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] },
  { verbs: ['get'], nonResourceURLs: DISCOVERY_URLS },
];

/** system:public-info-viewer: what even an anonymous request may read. */
const ANONYMOUS_RULES: PolicyRule[] = [{ verbs: ['get'], nonResourceURLs: ['/version', '/version/', '/healthz', '/livez', '/readyz'] }];

export const ADMIN_USER = 'lab-admin';
export const NOEXEC_USER = 'lab-noexec';
export const ANONYMOUS_USER = 'system:anonymous';

/** Users by role: admin is cluster-admin; noexec may read everything but neither exec nor create pods. */
export function labUsers(): Record<'admin' | 'noexec', LabUser> {
  return {
    admin: {
      name: ADMIN_USER,
      groups: ['system:masters', 'system:authenticated'],
      rules: [
        { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
        { verbs: ['*'], nonResourceURLs: ['*'] },
      ],
    },
    noexec: {
      name: NOEXEC_USER,
      groups: ['system:authenticated'],
      rules: [{ verbs: ['get', 'list', 'watch'], apiGroups: ['*'], resources: ['*'] }, ...AUTHENTICATED_RULES],
    },
  };
}

export const anonymousUser: LabUser = { name: ANONYMOUS_USER, groups: ['system:unauthenticated'], rules: ANONYMOUS_RULES };

/** The user a token belongs to; undefined for an unknown token (the caller answers 401). */
export function authenticate(
  authorization: string | undefined,
  tokens: Record<'admin' | 'noexec', string>,
): LabUser | undefined | 'anonymous' {
  if (authorization === undefined || authorization === '') return 'anonymous';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) return undefined;
  const users = labUsers();
  if (match[1] === tokens.admin) return users.admin;
  if (match[1] === tokens.noexec) return users.noexec;
  return undefined;
}

function matches(list: string[] | undefined, value: string): boolean {
  return list !== undefined && (list.includes('*') || list.includes(value));
}

function resourceMatches(list: string[] | undefined, resource: string, subresource: string | undefined): boolean {
  if (list === undefined) return false;
  const full = subresource ? `${resource}/${subresource}` : resource;
  return list.some((r) => r === '*' || r === full || (subresource !== undefined && r === `*/${subresource}`));
}

/** Whether the user may do what the attributes describe (RBAC rule matching, allow-only). */
export function allowed(user: LabUser, attrs: RequestAttributes): boolean {
  return user.rules.some(
    (rule) =>
      rule.resources !== undefined &&
      matches(rule.verbs, attrs.verb) &&
      matches(rule.apiGroups, attrs.group) &&
      resourceMatches(rule.resources, attrs.resource, attrs.subresource),
  );
}

/** Whether the user may call a non-resource URL such as /version or /api. */
export function allowedPath(user: LabUser, verb: string, path: string): boolean {
  return user.rules.some(
    (rule) =>
      matches(rule.verbs, verb) &&
      (rule.nonResourceURLs ?? []).some((u) => u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.slice(0, -1)))),
  );
}

/** The `reason` a real RBAC authorizer gives when it allows (empty when denied, as in kube-apiserver). */
export function allowReason(user: LabUser): string {
  return user.groups.includes('system:masters')
    ? 'RBAC: allowed by ClusterRoleBinding "lab-admin" of ClusterRole "cluster-admin" to User "lab-admin"'
    : `RBAC: allowed by ClusterRoleBinding "lab-view" of ClusterRole "view" to User "${user.name}"`;
}
