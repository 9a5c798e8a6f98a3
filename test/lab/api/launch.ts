/**
 * Starting and stopping the lab's API server from `lab up` / `lab down`: PKI, tokens, a detached
 * server process, the kubeconfig, and the `api` field of state.json. Stopping also kills whatever
 * a crashed server's execs left running (recorded in pods.json).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleEmulated, hasEmulatedBundles } from '../emulated/bundle.js';
import type { LabApi, LabState } from '../state.js';
import type { LeftoverFile } from './cluster.js';
import { REPO_ROOT } from './images.js';
import { writeKubeconfig } from './kubeconfig.js';
import { generatePki } from './pki.js';
import { signalRecordedGroup } from './processes.js';

const SERVER_SCRIPT = join(REPO_ROOT, 'test/lab/api/server.ts');
const TSX_LOADER = pathToFileURL(join(REPO_ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

function statePathOf(state: LabState): string {
  return join(state.dir, 'state.json');
}

/** Read-modify-write of state.json's `api` field; the kernel side owns every other field. */
function writeApiField(state: LabState, api: LabApi | undefined): void {
  const path = statePathOf(state);
  const current = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as LabState) : { ...state };
  if (api === undefined) delete current.api;
  else current.api = api;
  writeFileSync(`${path}.api-tmp`, `${JSON.stringify(current, null, 2)}\n`);
  renameSync(`${path}.api-tmp`, path);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether a pid is alive and not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Whether the pid is this lab's API server (so a recycled pid is never signalled). */
function isLabServer(pid: number, statePath: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes(SERVER_SCRIPT) && argv.includes(statePath);
  } catch {
    return false;
  }
}

function logTail(dir: string): string {
  try {
    return readFileSync(join(dir, 'api.log'), 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no api.log)';
  }
}

/** GET /version over verified TLS. */
function fetchVersion(port: number, ca: Buffer): Promise<{ minor?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/version', ca, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as { minor?: string });
        } catch (e) {
          reject(e);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('GET /version timed out')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Starts the API server for the lab: certificates, tokens, the server process (detached, pid in
 * .lab/api.pid), a kubeconfig at .lab/kubeconfig; resolves once /version answers over TLS.
 */
export async function launchApiServer(state: LabState): Promise<LabApi> {
  const { dir } = state;
  const statePath = statePathOf(state);
  await stopApiServer(state);
  if (!existsSync(statePath)) writeFileSync(statePath, `${JSON.stringify(state, null, 2)}\n`);

  // `lab up` bundles the emulated programs the images' wrappers exec; a lab made otherwise (the
  // API server's own tests) gets them here.
  if (!hasEmulatedBundles(dir)) await bundleEmulated(dir);
  const pki = generatePki(join(dir, 'pki'));
  const tokens = { admin: randomBytes(24).toString('base64url'), noexec: randomBytes(24).toString('base64url') };
  writeFileSync(join(dir, 'api-tokens.json'), JSON.stringify(tokens), { mode: 0o600 });
  rmSync(join(dir, 'api.port'), { force: true });

  const logFd = openSync(join(dir, 'api.log'), 'a');
  const child = spawn(process.execPath, ['--import', TSX_LOADER, SERVER_SCRIPT, '--state', statePath], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start the lab API server (${process.execPath})`);
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited with ${signal ?? code}`));

  const deadline = Date.now() + START_TIMEOUT_MS;
  let port = 0;
  while (port === 0) {
    if (exited) throw new Error(`lab API server ${exited} before listening:\n${logTail(dir)}`);
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      throw new Error(`lab API server did not listen within ${START_TIMEOUT_MS / 1000}s:\n${logTail(dir)}`);
    }
    await sleep(20);
    try {
      port = Number(readFileSync(join(dir, 'api.port'), 'utf8').trim()) || 0;
    } catch {
      // not listening yet
    }
  }
  const version = await fetchVersion(port, readFileSync(pki.caFile));
  if (version.minor !== '32') throw new Error(`lab API server answered /version with minor ${version.minor}, expected 32`);

  const kubeconfig = join(dir, 'kubeconfig');
  writeKubeconfig(kubeconfig, `https://127.0.0.1:${port}`, pki.caFile, tokens);
  const api: LabApi = { port, pid, kubeconfig, caFile: pki.caFile, tokens };
  writeApiField(state, api);
  state.api = api;
  return api;
}

/** Kills the processes a server's execs started that are still running (after a crash, or defensively). */
function killLeftovers(dir: string): number {
  const path = join(dir, 'pods.json');
  if (!existsSync(path)) return 0;
  let killed = 0;
  try {
    const leftovers = JSON.parse(readFileSync(path, 'utf8')) as LeftoverFile;
    for (const record of leftovers.processes) killed += signalRecordedGroup(record, 'SIGKILL');
  } catch {
    // an unreadable pods.json has nothing we can act on
  }
  rmSync(path, { force: true });
  return killed;
}

/** Stops the lab API server (SIGTERM, then SIGKILL), kills leftovers and clears state.json's `api`. */
export async function stopApiServer(state: LabState): Promise<void> {
  const { dir } = state;
  const statePath = statePathOf(state);
  let pid = state.api?.pid;
  if (pid === undefined && existsSync(join(dir, 'api.pid'))) pid = Number(readFileSync(join(dir, 'api.pid'), 'utf8').trim());
  if (pid !== undefined && isLabServer(pid, statePath)) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (alive(pid) && Date.now() < deadline) await sleep(20);
    if (alive(pid)) {
      process.kill(pid, 'SIGKILL');
      while (alive(pid)) await sleep(20);
    }
  }
  killLeftovers(dir);
  for (const file of ['api.pid', 'api.port', 'api-tokens.json']) rmSync(join(dir, file), { force: true });
  if (existsSync(statePath) && (JSON.parse(readFileSync(statePath, 'utf8')) as LabState).api !== undefined) writeApiField(state, undefined);
  delete state.api;
}
