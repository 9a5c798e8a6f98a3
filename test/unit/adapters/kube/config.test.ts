/**
 * Kubeconfig loading with kubectl's rules, on temporary files: --kubeconfig, a two-file
 * KUBECONFIG (first current-context and first definition of a name win), ~/.kube/config,
 * in-cluster, --context and the namespace, and one-line errors. Where kubectl is installed, the
 * same files go through `kubectl config view --minify` and must give the same answer.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { loadKubeConfig, type KubeConfigEnv } from '../../../../src/adapters/kube/config.js';
import { DatapathError, EXIT, UsageError } from '../../../../src/core/errors.js';

const A = `apiVersion: v1
kind: Config
clusters: [{name: shared, cluster: {server: "https://a.example:6443", certificate-authority: certs/ca.crt}}]
users: [{name: u, user: {token: token-a}}]
contexts: [{name: ctx-a, context: {cluster: shared, user: u, namespace: team-a}}]
current-context: ctx-a
`;
const B = `apiVersion: v1
kind: Config
clusters: [{name: shared, cluster: {server: "https://b.example:6443"}}, {name: only-b, cluster: {server: "https://only-b.example"}}]
users: [{name: u, user: {token: token-b}}]
contexts:
- {name: ctx-b, context: {cluster: only-b, user: u}}
- {name: ctx-a, context: {cluster: only-b, user: u, namespace: other}}
current-context: ctx-b
`;
const NO_CURRENT = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://c.example"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: ctx-c, context: {cluster: c, user: u}}]
`;

let dir: string;
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const where = (env: NodeJS.ProcessEnv = {}, extra: Partial<KubeConfigEnv> = {}): KubeConfigEnv => ({ env, home: join(dir, 'home'), inClusterRoot: join(dir, 'root'), ...extra });

function error(run: () => unknown): DatapathError {
  try {
    run();
  } catch (e) {
    if (e instanceof DatapathError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

const KUBECTL = '/usr/bin/kubectl';
const hasKubectl = spawnSync(KUBECTL, ['version', '--client'], { encoding: 'utf8' }).status === 0;
if (!hasKubectl) process.stderr.write('config.test: no kubectl at /usr/bin/kubectl, the comparisons with kubectl are left out\n');

/** `kubectl config view --minify` of the same files: context, server, namespace of the chosen context. */
function kubectlView(env: NodeJS.ProcessEnv, args: string[] = []): string | undefined {
  if (!hasKubectl) return undefined;
  const r = spawnSync(KUBECTL, ['config', 'view', '--minify', ...args, '-o', 'jsonpath={.contexts[0].name} {.clusters[0].cluster.server} {.contexts[0].context.namespace}'], {
    env: { PATH: process.env.PATH, HOME: join(dir, 'home'), KUBECACHEDIR: join(dir, 'cache'), ...env },
    encoding: 'utf8',
  });
  return r.status === 0 ? r.stdout.trim() : `error: ${r.stderr.trim()}`;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kubeconfig-test-'));
  mkdirSync(join(dir, 'home'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('loadKubeConfig', () => {
  it('reads --kubeconfig: current context, its namespace, certificate paths made absolute to the file', () => {
    const a = file('a.yaml', A);
    const loaded = loadKubeConfig({ kubeconfig: a }, where({ KUBECONFIG: '/nonexistent' }));
    expect({ context: loaded.context, namespace: loaded.namespace, server: loaded.server, sources: loaded.sources }).toEqual({
      context: 'ctx-a',
      namespace: 'team-a',
      server: 'https://a.example:6443',
      sources: [a],
    });
    expect(loaded.kc.getCurrentCluster()?.caFile).toBe(join(dir, 'certs/ca.crt'));
    expect(loadKubeConfig({ kubeconfig: a, namespace: 'flag-ns' }, where()).namespace).toBe('flag-ns');
  });

  it('merges a two-file KUBECONFIG like kubectl: first current-context wins, duplicate names keep the first', () => {
    const env = { KUBECONFIG: [file('a.yaml', A), file('b.yaml', B)].join(delimiter) };
    const merged = loadKubeConfig({}, where(env));
    expect([merged.context, merged.server, merged.namespace]).toEqual(['ctx-a', 'https://a.example:6443', 'team-a']);
    expect(merged.kc.contexts.map((c) => c.name)).toEqual(['ctx-a', 'ctx-b']);
    expect(merged.kc.getCurrentUser()?.token).toBe('token-a');
    expect(kubectlView(env)).toBe('ctx-a https://a.example:6443 team-a');

    const b = loadKubeConfig({ context: 'ctx-b' }, where(env));
    expect([b.context, b.server, b.namespace]).toEqual(['ctx-b', 'https://only-b.example', 'default']);
    expect(b.kc.getCurrentUser()?.token).toBe('token-a');
    expect(kubectlView(env, ['--context', 'ctx-b'])).toBe('ctx-b https://only-b.example');
  });

  it('takes current-context from the first file that sets one, and skips files that do not exist', () => {
    const env = { KUBECONFIG: [join(dir, 'missing.yaml'), file('c.yaml', NO_CURRENT), file('b.yaml', B)].join(delimiter) };
    const loaded = loadKubeConfig({}, where(env));
    expect([loaded.context, loaded.server]).toEqual(['ctx-b', 'https://only-b.example']);
    expect(loaded.sources).toEqual([join(dir, 'c.yaml'), join(dir, 'b.yaml')]);
    expect(kubectlView(env)).toBe('ctx-b https://only-b.example');
  });

  it('falls back to ~/.kube/config, then in-cluster', () => {
    mkdirSync(join(dir, 'home', '.kube'));
    writeFileSync(join(dir, 'home', '.kube', 'config'), A);
    expect(loadKubeConfig({}, where()).sources).toEqual([join(dir, 'home', '.kube', 'config')]);
    rmSync(join(dir, 'home', '.kube'), { recursive: true });

    const sa = join(dir, 'root', 'var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, 'token'), 'sa-token');
    writeFileSync(join(sa, 'ca.crt'), '');
    writeFileSync(join(sa, 'namespace'), 'probe-ns');
    const inCluster = loadKubeConfig({}, where({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }));
    expect({ sources: inCluster.sources, server: inCluster.server, namespace: inCluster.namespace }).toEqual({ sources: ['in-cluster'], server: 'https://10.96.0.1:443', namespace: 'probe-ns' });
  });

  it('says in one line when there is no kubeconfig at all', () => {
    const none = error(() => loadKubeConfig({}, where()));
    expect(none.message).toBe(`no kubeconfig found: set KUBECONFIG, pass --kubeconfig FILE, or create ${join(dir, 'home', '.kube', 'config')}`);
    expect(none.exitCode).toBe(EXIT.error);
    const listed = error(() => loadKubeConfig({}, where({ KUBECONFIG: `/x/one${delimiter}/x/two` })));
    expect(listed.message).toBe('no kubeconfig found: KUBECONFIG names /x/one, /x/two, and none of them exists');
    const flag = error(() => loadKubeConfig({ kubeconfig: join(dir, 'nope.yaml') }, where()));
    expect(flag).toBeInstanceOf(UsageError);
    expect(flag.message).toBe(`--kubeconfig ${join(dir, 'nope.yaml')}: no such file`);
  });

  it('names an unknown --context and lists the ones that exist', () => {
    const env = { KUBECONFIG: [file('a.yaml', A), file('b.yaml', B)].join(delimiter) };
    const e = error(() => loadKubeConfig({ context: 'prod' }, where(env)));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toBe(`--context "prod" does not exist in kubeconfig ${join(dir, 'a.yaml')}, ${join(dir, 'b.yaml')} (contexts: ctx-a, ctx-b)`);
    expect(kubectlView(env, ['--context', 'prod'])).toBe('error: error: cannot locate context prod');
    const unset = error(() => loadKubeConfig({}, where({ KUBECONFIG: file('c.yaml', NO_CURRENT) })));
    expect(unset.message).toBe(`kubeconfig ${join(dir, 'c.yaml')} sets no current-context: pass --context (contexts: ctx-c)`);
  });

  it('says where the YAML is broken, and which entry is invalid', () => {
    const bad = file('bad.yaml', 'apiVersion: v1\nclusters:\n  - name: x\n   cluster: {server: "https://x"}\n');
    const e = error(() => loadKubeConfig({ kubeconfig: bad }, where()));
    expect(e.message).toMatch(new RegExp(`^kubeconfig ${bad} is not valid YAML at line 4, column \\d+: .+$`));
    expect(e.message).not.toContain('\n');
    const noServer = file('noserver.yaml', 'clusters: [{name: x, cluster: {}}]\n');
    expect(error(() => loadKubeConfig({ kubeconfig: noServer }, where())).message).toBe(`kubeconfig ${noServer} is not a valid kubeconfig: clusters[0].cluster.server is missing`);
    const scalar = file('scalar.yaml', 'hello\n');
    expect(error(() => loadKubeConfig({ kubeconfig: scalar }, where())).message).toBe(`kubeconfig ${scalar} is not a kubeconfig: it has no clusters, users, contexts or current-context`);
    const dangling = file('dangling.yaml', 'contexts: [{name: c, context: {cluster: gone, user: u}}]\ncurrent-context: c\n');
    expect(error(() => loadKubeConfig({ kubeconfig: dangling }, where())).message).toBe(`context "c" names cluster "gone", which kubeconfig ${dangling} does not define`);
  });
});
