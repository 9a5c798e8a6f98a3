import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliProcess } from '../helpers/run-cli-process.js';

/**
 * `version` and shell completion against an API server that accepts the connection and never
 * answers (a hung apiserver, a firewall that lets SYN through): both must give up on their own
 * deadline and the process must end, not wait minutes for the socket.
 */
const run = runCliProcess;

describe('a cluster that never answers', () => {
  let dir: string;
  let server: Server;
  const sockets: Socket[] = [];
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hung-api-'));
    server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const kubeconfig = join(dir, 'config');
    writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config', 'current-context: hung',
      'clusters:', `- name: hung`, `  cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}`,
      'users:', '- name: u', '  user: {token: t}',
      'contexts:', '- name: hung', '  context: {cluster: hung, user: u, namespace: default}', '',
    ].join('\n'));
    env = { HOME: dir, KUBECONFIG: kubeconfig };
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('version prints the plugin version, says the API server did not answer, and ends after its 5 s', async () => {
    const r = await run(['version'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('kubectl-datapath 0.1.0\n');
    expect(r.stderr).toMatch(/^cilium version unknown: the API server https:\/\/127\.0\.0\.1:\d+ did not answer within 5s\n$/);
    expect(r.ms).toBeLessThan(12_000);
  }, 20_000);

  it('completion offers no pod after its 3 s and ends', async () => {
    const r = await run(['__complete', 'endpoints', ''], env);
    expect(r.stdout).toBe(':4\n');
    expect(r.stderr).toBe('');
    expect(r.ms).toBeLessThan(10_000);
  }, 20_000);
});
