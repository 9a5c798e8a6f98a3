/**
 * The lab's Kubernetes API server process: `node --import tsx test/lab/api/server.ts --state <state.json>`.
 * Serves HTTPS on 127.0.0.1 with the certificate `lab up` generated, writes `api.pid` and, once
 * listening, `api.port` into the lab directory. SIGTERM kills every process its execs started.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { LabState } from '../state.js';
import { LabCluster } from './cluster.js';
import { FaultHook } from './faults.js';
import { ApiHandler } from './http-handler.js';

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

/** PRETTY_NAME of this machine: the lab's nodes are namespaces on it, so it is their OS image. */
function osImage(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

function main(): void {
  const { values } = parseArgs({ options: { state: { type: 'string' }, port: { type: 'string' } } });
  if (!values.state) throw new Error('usage: server.ts --state <path of .lab/state.json> [--port N]');
  const statePath = values.state;
  const dir = (JSON.parse(readFileSync(statePath, 'utf8')) as LabState).dir;
  const tokens = JSON.parse(readFileSync(join(dir, 'api-tokens.json'), 'utf8')) as Record<'admin' | 'noexec', string>;
  writeFileSync(join(dir, 'api.pid'), `${process.pid}\n`);

  const cluster = new LabCluster(statePath, osImage(), log);
  const faults = new FaultHook(cluster, statePath, log);
  const handler = new ApiHandler(cluster, statePath, tokens, log, faults);
  // `npm run lab -- fault KIND` wrote faults.json: act now (an exec cut must not wait for a request).
  process.on('SIGUSR2', () => faults.reload());
  const server = createServer({ key: readFileSync(join(dir, 'pki/server.key')), cert: readFileSync(join(dir, 'pki/server.crt')) }, handler.handle);
  server.on('upgrade', handler.upgrade);
  server.on('tlsClientError', (err) => log(`TLS client error: ${err.message}`));

  let stopping = false;
  const stop = (why: string, code: number): void => {
    if (stopping) return;
    stopping = true;
    log(`stopping (${why}): killing exec'd processes`);
    faults.shutdown();
    cluster.shutdown();
    server.close();
    process.exit(code);
  };
  process.on('SIGTERM', () => stop('SIGTERM', 0));
  process.on('SIGINT', () => stop('SIGINT', 0));
  process.on('uncaughtException', (err) => {
    log(`uncaught: ${err.stack ?? err.message}`);
    stop('uncaught exception', 1);
  });

  server.listen(Number(values.port ?? 0), '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    log(`listening on https://127.0.0.1:${port} (pid ${process.pid}, state ${statePath})`);
    writeFileSync(join(dir, 'api.port'), `${port}\n`);
  });
}

main();
