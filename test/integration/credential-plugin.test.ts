import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliProcess } from '../helpers/run-cli-process.js';

/**
 * A kubeconfig whose user gets its token from an exec credential plugin that never returns (a
 * login helper waiting for a browser nobody opens, a hung cloud CLI): every command must end on
 * its own bound, with one line saying what it waited for, and leave no process behind.
 */
const run = runCliProcess;

describe('an exec credential plugin that never returns', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hung-credential-'));
    const kubeconfig = join(dir, 'config');
    writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config', 'current-context: c',
      'clusters:', '- name: c', '  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}',
      'users:', '- name: u', '  user:', '    exec:', '      apiVersion: client.authentication.k8s.io/v1', '      command: sh',
      `      args: ["-c", "echo $$ >> ${dir}/plugin.pids; exec sleep 1000"]`, '      interactiveMode: Never',
      'contexts:', '- name: c', '  context: {cluster: c, user: u, namespace: default}', '',
    ].join('\n'));
    env = { HOME: dir, KUBECONFIG: kubeconfig };
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** How long the CLI takes to start and end here without the cluster (tsx; slow on a loaded machine). */
  let startup = 0;
  beforeAll(async () => {
    // The same command, its user a plain token, the server refusing at once: start-up and imports, no waiting.
    const plain = join(dir, 'plain');
    writeFileSync(plain, readFileSync(env.KUBECONFIG as string, 'utf8').replace(/  user:\n    exec:[\s\S]*?interactiveMode: Never\n/, '  user: {token: t}\n'));
    startup = (await run(['version', '--request-timeout', '2s'], { HOME: dir, KUBECONFIG: plain })).ms;
  }, 30_000);
  /** A command hung by the plugin would run until the test's 30 s; one bounded ends a few seconds after its start-up. */
  const withinBound = (ms: number) => expect(ms).toBeLessThan(startup + 3_000 + 6_000);

  /** The plugins the command started that still run (it must end them). */
  function pluginsLeft(): string[] {
    const file = join(dir, 'plugin.pids');
    if (!existsSync(file)) return [];
    const pids = readFileSync(file, 'utf8').split('\n').filter((p) => p !== '');
    rmSync(file);
    return pids.filter((p) => existsSync(`/proc/${p}`) && readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('sleep'));
  }
  const GAVE_UP = 'the exec credential plugin "sh" of the kubeconfig gave no credential within 2s (--request-timeout): run it by hand to see what it waits for (a login?)';

  it.each([
    ['endpoints', ['endpoints', 'a', '--request-timeout', '2s']],
    ['doctor', ['doctor', '--request-timeout', '2s']],
    ['cleanup', ['cleanup', '--request-timeout', '2s']],
    ['trace', ['trace', 'a', 'b', '--timeout', '2']],
  ])('%s ends after its 2 s bound with one line naming the plugin, and the plugin is ended', async (_name, args) => {
    const r = await run(args, env);
    withinBound(r.ms);
    expect(r.stderr).not.toMatch(/this is a bug|^\s+at /m);
    expect(`${r.stdout}${r.stderr}`).toContain(GAVE_UP);
    expect(r.code).toBe(1);
    expect(pluginsLeft()).toEqual([]);
  }, 30_000);

  it('version prints the plugin version and ends after its bound', async () => {
    const r = await run(['version', '--request-timeout', '2s'], env);
    withinBound(r.ms);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('kubectl-datapath 0.1.0\n');
    // The read's own 2 s deadline and the plugin's end at the same moment: either line says it.
    expect(r.stderr).toMatch(/gave no credential within 2s \(--request-timeout\)|did not answer within 2s/);
    expect(pluginsLeft()).toEqual([]);
  }, 30_000);

  it('completion offers nothing and ends after its 3 s', async () => {
    const r = await run(['__complete', 'endpoints', ''], env);
    withinBound(r.ms);
    expect(r.stdout).toBe(':4\n');
    expect(pluginsLeft()).toEqual([]);
  }, 30_000);
});
