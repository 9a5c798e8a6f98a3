import { allowed, allowedPath, authenticate, labUsers } from './rbac.js';
import { forbidden } from './status.js';

const tokens = { admin: 'adm1n', noexec: 'n0exec' };

describe('authentication', () => {
  it('maps bearer tokens to users, no header to anonymous, anything else to nobody (401)', () => {
    expect(authenticate('Bearer adm1n', tokens)).toMatchObject({ name: 'lab-admin' });
    expect(authenticate('Bearer n0exec', tokens)).toMatchObject({ name: 'lab-noexec' });
    expect(authenticate(undefined, tokens)).toBe('anonymous');
    expect(authenticate('Bearer nope', tokens)).toBeUndefined();
    expect(authenticate('Basic YTpi', tokens)).toBeUndefined();
  });
});

describe('RBAC', () => {
  const { admin, noexec } = labUsers();
  const exec = { verb: 'create', group: '', resource: 'pods', subresource: 'exec', namespace: 'default', name: 'same' };

  it('lets the admin do anything', () => {
    expect(allowed(admin, exec)).toBe(true);
    expect(allowed(admin, { verb: 'delete', group: '', resource: 'pods', namespace: 'default' })).toBe(true);
  });

  it('lets noexec read everything, logs included, but neither exec nor create pods', () => {
    expect(allowed(noexec, { verb: 'list', group: '', resource: 'pods' })).toBe(true);
    expect(allowed(noexec, { verb: 'watch', group: 'cilium.io', resource: 'ciliumendpoints', namespace: 'default' })).toBe(true);
    expect(allowed(noexec, { verb: 'get', group: '', resource: 'pods', subresource: 'log', namespace: 'kube-system' })).toBe(true);
    expect(allowed(noexec, exec)).toBe(false);
    expect(allowed(noexec, { verb: 'create', group: '', resource: 'pods', namespace: 'default' })).toBe(false);
    expect(allowed(noexec, { verb: 'create', group: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews' })).toBe(true);
    expect(allowedPath(noexec, 'get', '/apis/cilium.io/v2')).toBe(true);
  });

  it('words a denial like kube-apiserver', () => {
    const status = forbidden({ user: 'lab-noexec', ...exec }).status;
    expect(status).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "same" is forbidden: User "lab-noexec" cannot create resource "pods/exec" in API group "" in the namespace "default"',
      reason: 'Forbidden',
      details: { name: 'same', kind: 'pods' },
      code: 403,
    });
    expect(forbidden({ user: 'u', verb: 'list', group: 'cilium.io', resource: 'ciliumendpoints' }).status.message).toBe(
      'ciliumendpoints.cilium.io is forbidden: User "u" cannot list resource "ciliumendpoints" in API group "cilium.io" at the cluster scope',
    );
  });
});
