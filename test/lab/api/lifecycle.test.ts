/**
 * launchApiServer / stopApiServer: real TLS with the generated CA, the state.json `api` field and
 * kubeconfig, and that nothing the server or its execs started survives `down`, even after a crash.
 */
import { Exec, KubeConfig } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { get } from 'node:https';
import { PassThrough } from 'node:stream';
import { parse } from 'yaml';
import type { LabState } from '../state.js';
import { describeAsRoot } from '../require-root.js';
import { buildFakeLab, dead, findLabProcess, processesOfLab, until, type FakeLab } from './fake-lab.js';
import { launchApiServer, stopApiServer } from './launch.js';

function httpsGet(port: number, path: string, options: { ca?: Buffer; token?: string }): Promise<{ code?: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = options.token ? { Authorization: `Bearer ${options.token}` } : undefined;
    get({ host: '127.0.0.1', port, path, ca: options.ca, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ code: res.statusCode, body }));
    }).on('error', reject);
  });
}

function startSleep(kubeconfig: string, seconds: string): Promise<unknown> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return new Exec(kc).exec('default', 'same', 'same', ['sleep', seconds], new PassThrough(), new PassThrough(), null, false);
}

describeAsRoot('lab API server lifecycle', () => {
  let lab: FakeLab;
  const onDisk = (): LabState => JSON.parse(readFileSync(lab.statePath, 'utf8')) as LabState;

  beforeAll(() => {
    lab = buildFakeLab();
  });

  afterAll(async () => {
    if (lab) {
      await stopApiServer(lab.state);
      lab.cleanup();
    }
  });

  it('launches with verified TLS, records itself in state.json and writes a kubeconfig for both tokens', async () => {
    const started = performance.now();
    const api = await launchApiServer(lab.state);
    const ms = Math.round(performance.now() - started);
    process.stderr.write(`launchApiServer: ${ms} ms (openssl PKI, server start, first /version over TLS)\n`);
    expect(ms).toBeLessThan(15_000);

    expect(onDisk().api).toEqual(api);
    expect(onDisk().nodes).toEqual(lab.state.nodes); // the kernel side's fields are left alone
    expect(readFileSync(`${lab.state.dir}/api.pid`, 'utf8').trim()).toBe(String(api.pid));

    const kubeconfig = parse(readFileSync(api.kubeconfig, 'utf8'));
    expect(kubeconfig['current-context']).toBe('lab-admin');
    expect(kubeconfig.clusters).toEqual([{ name: 'dplab', cluster: { server: `https://127.0.0.1:${api.port}`, 'certificate-authority': api.caFile } }]);
    expect(kubeconfig.users).toEqual([
      { name: 'lab-admin', user: { token: api.tokens.admin } },
      { name: 'lab-noexec', user: { token: api.tokens.noexec } },
    ]);

    const ca = readFileSync(api.caFile);
    expect(JSON.parse((await httpsGet(api.port, '/version', { ca })).body)).toMatchObject({ major: '1', minor: '32' });
    await expect(httpsGet(api.port, '/version', {})).rejects.toThrow('unable to verify the first certificate');
    // Anonymous requests reach /version only, like system:public-info-viewer.
    expect((await httpsGet(api.port, '/api/v1/pods', { ca })).code).toBe(403);
    expect((await httpsGet(api.port, '/api/v1/pods', { ca, token: 'wrong' })).code).toBe(401);
    expect((await httpsGet(api.port, '/api/v1/pods', { ca, token: api.tokens.noexec })).code).toBe(200);
  }, 30_000);

  it('stops, leaving no server and no exec process behind, and clears state.json', async () => {
    const api = lab.state.api;
    if (!api) throw new Error('the previous test launched no server');
    await startSleep(api.kubeconfig, '320');
    const sleeper = await until('the sleep', () => findLabProcess(lab.statePath, ['sleep', '320']));
    await stopApiServer(lab.state);
    expect(dead(api.pid)).toBe(true);
    await until('the sleep to die', () => (dead(sleeper) ? true : undefined), 1000);
    expect(processesOfLab(lab.statePath).filter((pid) => !dead(pid))).toEqual([]);
    expect(onDisk().api).toBeUndefined();
    expect(lab.state.api).toBeUndefined();
  }, 30_000);

  it('after a server crash, stop still kills what its execs left running (pods.json)', async () => {
    const api = await launchApiServer(lab.state);
    await startSleep(api.kubeconfig, '321');
    const sleeper = await until('the sleep', () => findLabProcess(lab.statePath, ['sleep', '321']));
    process.kill(api.pid, 'SIGKILL');
    await until('the server to die', () => (dead(api.pid) ? true : undefined));
    expect(dead(sleeper)).toBe(false); // its own process group: the crash did not take it along
    await stopApiServer(lab.state);
    await until('the orphaned sleep to die', () => (dead(sleeper) ? true : undefined), 1000);
  }, 30_000);

  it('launching again replaces a running server', async () => {
    const first = await launchApiServer(lab.state);
    const second = await launchApiServer(lab.state);
    expect(dead(first.pid)).toBe(true);
    expect(dead(second.pid)).toBe(false);
    expect(onDisk().api?.pid).toBe(second.pid);
    await stopApiServer(lab.state);
    expect(dead(second.pid)).toBe(true);
  }, 30_000);
});
