import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * API servers on 127.0.0.1 that misbehave the way real ones do, for the bad-input and bounds
 * tests: one that accepts the TCP connection and never answers (not even the TLS handshake),
 * one that completes TLS and never answers the request, and HTTPS servers that answer every
 * request with a fixed status and body (401 for a bogus or expired token, 200 with an HTML page
 * from a proxy). The certificate is self-signed (openssl CLI); kubeconfigs skip verification.
 */
export interface FakeApi {
  dir: string;
  /** A kubeconfig for a server kind, written into dir. */
  kubeconfig(kind: FakeKind): string;
  /** Connections a server kind has accepted so far (a client is surely waiting on it once > 0). */
  connections(kind: FakeKind): number;
  close(): Promise<void>;
}

export type FakeKind = 'silent-tcp' | 'silent-tls' | 'unauthorized' | 'html' | 'empty-json' | 'unreachable';

const ANSWERS: Record<'unauthorized' | 'html' | 'empty-json', { status: number; type: string; body: string }> = {
  unauthorized: { status: 401, type: 'application/json', body: '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}' },
  html: { status: 200, type: 'text/html', body: '<html><head><title>Sign in</title></head><body>Welcome to the corporate proxy</body></html>' },
  'empty-json': { status: 200, type: 'application/json', body: '{}' },
};

export async function startFakeApi(): Promise<FakeApi> {
  const dir = mkdtempSync(join(tmpdir(), 'fake-api-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: dir, stdio: 'ignore' });
  const tls = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  const sockets: Socket[] = [];
  const servers: (Server | HttpsServer)[] = [];
  const ports = new Map<FakeKind, number>();
  const accepted = new Map<FakeKind, number>();
  const listen = async (kind: FakeKind, server: Server | HttpsServer) => {
    servers.push(server);
    server.on('connection', (s: Socket) => {
      sockets.push(s);
      accepted.set(kind, (accepted.get(kind) ?? 0) + 1);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ports.set(kind, (server.address() as { port: number }).port);
  };
  await listen('silent-tcp', createServer(() => {}));
  await listen('silent-tls', createHttpsServer(tls, () => {}));
  for (const kind of ['unauthorized', 'html', 'empty-json'] as const) {
    const a = ANSWERS[kind];
    await listen(kind, createHttpsServer(tls, (_req, res) => {
      res.writeHead(a.status, { 'content-type': a.type });
      res.end(a.body);
    }));
  }
  return {
    dir,
    kubeconfig(kind) {
      const server = kind === 'unreachable' ? 'https://127.0.0.1:1' : `https://127.0.0.1:${ports.get(kind)}`;
      const path = join(dir, `kubeconfig-${kind}`);
      writeFileSync(path, [
        'apiVersion: v1', 'kind: Config', 'current-context: fake',
        'clusters:', '- name: fake', `  cluster: {server: "${server}", insecure-skip-tls-verify: true}`,
        'users:', '- name: u', '  user: {token: not-a-valid-token}',
        'contexts:', '- name: fake', '  context: {cluster: fake, user: u, namespace: default}', '',
      ].join('\n'));
      return path;
    },
    connections: (kind) => accepted.get(kind) ?? 0,
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
