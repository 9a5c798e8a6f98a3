/**
 * API error translation. HTTP failures use the Status bodies kube-apiserver writes (RBAC denial,
 * Pod Security rejection, missing resource type); network and TLS failures are produced for real
 * on loopback: a closed port, a server whose certificate the kubeconfig does not trust, and one
 * whose certificate names another host. Each must come out as one actionable line.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { translateApiError, translateHttpFailure, type ApiCall } from '../../../../src/adapters/kube/api-errors.js';
import { createExecPort } from '../../../../src/adapters/kube/exec.js';
import { createKubePort } from '../../../../src/adapters/kube/kube-port.js';
import { DatapathError, EXIT, ForbiddenError, NotFoundError, UnavailableError } from '../../../../src/core/errors.js';

const SERVER = 'https://10.0.0.1:6443';
const execCall: ApiCall = { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'kube-system', name: 'cilium-x7k2p', server: SERVER };
const status = (code: number, reason: string, message: string, details: object = {}): string =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code });

describe('translateHttpFailure', () => {
  it('403 RBAC: names user, verb, resource, subresource and namespace, and the rule to add', () => {
    const body = status(403, 'Forbidden', 'pods "cilium-x7k2p" is forbidden: User "jane" cannot create resource "pods/exec" in API group "" in the namespace "kube-system"', { name: 'cilium-x7k2p', kind: 'pods' });
    const e = translateHttpFailure({ code: 403, body }, execCall);
    expect(e).toBeInstanceOf(ForbiddenError);
    expect(e.exitCode).toBe(EXIT.forbidden);
    expect(e.message).toBe(
      'forbidden: user "jane" may not create pods/exec in namespace "kube-system"; add {apiGroups: [""], resources: ["pods/exec"], verbs: ["create"]} to a Role in namespace "kube-system" (or a ClusterRole) bound to you (see docs/rbac.yaml)',
    );
  });

  it('403 RBAC at the cluster scope, for a group resource', () => {
    const body = status(403, 'Forbidden', 'ciliumendpoints.cilium.io is forbidden: User "system:serviceaccount:ci:runner" cannot list resource "ciliumendpoints" in API group "cilium.io" at the cluster scope', { group: 'cilium.io', kind: 'ciliumendpoints' });
    const e = translateHttpFailure({ code: 403, body }, { verb: 'list', resource: 'ciliumendpoints', group: 'cilium.io', server: SERVER });
    expect(e.message).toBe(
      'forbidden: user "system:serviceaccount:ci:runner" may not list ciliumendpoints.cilium.io (cluster-wide); add {apiGroups: ["cilium.io"], resources: ["ciliumendpoints"], verbs: ["list"]} to a ClusterRole bound to you (see docs/rbac.yaml)',
    );
  });

  it('403 from Pod Security admission: the level, the violations, and where probe pods may go', () => {
    const body = status(
      403,
      'Forbidden',
      'pods "datapath-probe-bpf1" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true, hostPID=true), non-default capabilities (container "probe" must not include "NET_ADMIN" in securityContext.capabilities.add)',
      { name: 'datapath-probe-bpf1', kind: 'pods' },
    );
    const e = translateHttpFailure({ code: 403, body }, { verb: 'create', resource: 'pods', namespace: 'team-a', name: 'datapath-probe-bpf1', server: SERVER });
    expect(e).toBeInstanceOf(ForbiddenError);
    expect(e.message).toBe(
      'Pod Security level "baseline" of namespace "team-a" refused pod team-a/datapath-probe-bpf1: host namespaces (hostNetwork=true, hostPID=true), non-default capabilities (container "probe" must not include "NET_ADMIN" in securityContext.capabilities.add); use --probe-namespace with a namespace labelled pod-security.kubernetes.io/enforce=privileged',
    );
  });

  it('403 without a Status body (exec handshake through a proxy): what we tried, and the rule', () => {
    expect(translateHttpFailure({ code: 403, body: '' }, execCall).message).toBe(
      'forbidden: you may not create pods/exec in namespace "kube-system"; add {apiGroups: [""], resources: ["pods/exec"], verbs: ["create"]} to a Role in namespace "kube-system" (or a ClusterRole) bound to you (see docs/rbac.yaml)',
    );
  });

  it('404: the pod and namespace; a resource type the server lacks says so', () => {
    const pod = translateHttpFailure({ code: 404, body: status(404, 'NotFound', 'pods "web-1" not found', { name: 'web-1', kind: 'pods' }) }, { verb: 'get', resource: 'pods', namespace: 'shop', name: 'web-1', server: SERVER });
    expect(pod).toBeInstanceOf(NotFoundError);
    expect(pod.exitCode).toBe(EXIT.notFound);
    expect(pod.message).toBe('pod shop/web-1 not found');
    const noCrd = translateHttpFailure(
      { code: 404, body: status(404, 'NotFound', 'the server could not find the requested resource') },
      { verb: 'get', resource: 'ciliumendpoints', group: 'cilium.io', namespace: 'shop', name: 'web-1', server: SERVER },
    );
    expect(noCrd.message).toBe('the API server at https://10.0.0.1:6443 does not serve ciliumendpoints.cilium.io: is Cilium installed (CRD ciliumendpoints.cilium.io)?');
  });

  it('401: credentials invalid or expired, exit 1', () => {
    const e = translateHttpFailure({ code: 401, body: '' }, execCall);
    expect(e.exitCode).toBe(EXIT.error);
    expect(e.message).toBe(
      'the API server at https://10.0.0.1:6443 rejected our credentials (401 Unauthorized): the token or client certificate of the current context is invalid or expired; log in again or refresh the kubeconfig',
    );
  });

  it('400 and 500 keep the server message on one line', () => {
    const bad = translateHttpFailure({ code: 400, body: status(400, 'BadRequest', 'container probe is not valid for pod x') }, execCall);
    expect(bad.message).toBe('cannot create pods/exec in namespace "kube-system" (400): container probe is not valid for pod x');
    const internal = translateHttpFailure({ code: 500, body: 'upstream\nconnect error' }, execCall);
    expect(internal.message).toBe(
      'the API server at https://10.0.0.1:6443 failed to create pods/exec in namespace "kube-system" (500): upstream; connect error; it is overloaded, restarting or cannot reach the node: try again in a moment',
    );
    // Cleanup tries such an answer again; a 400 it does not.
    expect(internal).toBeInstanceOf(UnavailableError);
    expect(bad).not.toBeInstanceOf(UnavailableError);
  });
});

describe('translateApiError on real network and TLS failures', () => {
  let dir: string;
  const servers: Server[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'api-errors-test-'));
    const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    // A CA, a server certificate for 127.0.0.1 it signs, and one for another host name only.
    writeFileSync(join(dir, 'ext-ip.cnf'), 'subjectAltName = IP:127.0.0.1\n');
    writeFileSync(join(dir, 'ext-dns.cnf'), 'subjectAltName = DNS:api.other.example\n');
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=test-ca']);
    for (const [name, ext] of [['ip', 'ext-ip.cnf'], ['dns', 'ext-dns.cnf']]) {
      openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
      openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', `${name}.crt`]);
    }
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    rmSync(dir, { recursive: true, force: true });
  });

  async function tlsServer(name: 'ip' | 'dns'): Promise<string> {
    const server = createHttpsServer({ key: readFileSync(join(dir, `${name}.key`)), cert: readFileSync(join(dir, `${name}.crt`)) }, (_req, res) => res.end('{}'));
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async function closedPort(): Promise<number> {
    const s = createNetServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    return port;
  }

  function config(server: string, caFile?: string): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({ clusters: [{ name: 'c', server, caFile, skipTLSVerify: false }], users: [{ name: 'u', token: 't' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
    return kc;
  }

  /** The error of a pod read and of an exec against the server; both must read the same. */
  async function bothErrors(kc: KubeConfig): Promise<[string, string]> {
    const read = await createKubePort(kc, { namespace: 'default' })
      .getPod({ namespace: 'default', name: 'p' })
      .then(() => 'no error', (e: unknown) => (e instanceof DatapathError ? e.message : `not a DatapathError: ${String(e)}`));
    const exec = await createExecPort(kc).exec({ pod: { namespace: 'default', name: 'p' }, container: 'c', argv: ['true'] });
    return [read, exec.error ?? 'no error'];
  }

  it('connection refused: the API server is unreachable at its URL', async () => {
    const server = `https://127.0.0.1:${await closedPort()}`;
    const [read, exec] = await bothErrors(config(server));
    expect(read).toBe(`the API server at ${server} is unreachable (connection refused, ECONNREFUSED): check the cluster address in the kubeconfig, VPN or network`);
    expect(exec).toBe(read);
  });

  it('a certificate the kubeconfig does not trust', async () => {
    const server = await tlsServer('ip');
    const [read, exec] = await bothErrors(config(server));
    expect(read).toBe(
      `TLS: the certificate of the API server at ${server} is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE): the kubeconfig's certificate-authority does not match the server`,
    );
    expect(exec).toBe(read);
    // Trusted: the request goes through TLS and fails later, for another reason.
    expect((await bothErrors(config(server, join(dir, 'ca.crt'))))[0]).not.toMatch(/^TLS/);
  });

  it('a certificate for another host name', async () => {
    const server = await tlsServer('dns');
    const [read, exec] = await bothErrors(config(server, join(dir, 'ca.crt')));
    expect(read).toBe(
      `TLS: the certificate of the API server at ${server} does not name host 127.0.0.1 (ERR_TLS_CERT_ALTNAME_INVALID); use an address the certificate names, or set tls-server-name in the kubeconfig`,
    );
    expect(exec).toBe(read);
  });

  it('keeps a DatapathError as it is, and names the call for anything else', () => {
    const own = new NotFoundError('pod a/b not found');
    expect(translateApiError(own, execCall)).toBe(own);
    expect(translateApiError(new Error('socket hang up\nat x'), execCall).message).toBe('cannot create pods/exec in namespace "kube-system" at https://10.0.0.1:6443: socket hang up; at x');
  });
});
