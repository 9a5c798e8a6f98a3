/**
 * ExecPort over client-node's Exec (WebSocket, channel.k8s.io v5/v4). client-node resolves when
 * the socket opens and reports the exit status through a callback (kubernetes-client/javascript#1520);
 * this adapter resolves once the command has ended: status frame on channel 3 *and* socket close.
 */
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import type { IncomingMessage } from 'node:http';
import { Writable } from 'node:stream';
import WebSocket from 'ws';
import type { ExecPort, ExecRequest, ExecResult } from '../../app/ports.js';
import { translateApiError, translateHttpFailure, type HttpFailure } from './api-errors.js';

/** How long a canceled session may take to close cleanly before the socket is dropped. */
const CLOSE_GRACE_MS = 1000;
/** Handshake error bodies are Status objects; a few KiB is plenty. */
const MAX_ERROR_BODY = 16 * 1024;
const NOT_FOUND_TEXT = /executable file not found|no such file or directory/i;

/** exitCodeOf: the exit code in an exec V1Status (`details.causes[].reason === 'ExitCode'`), null when it carries none. */
export function exitCodeOf(status: V1Status): number | null {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (cause?.message === undefined) return null;
  const n = Number(cause.message);
  return Number.isInteger(n) ? n : null;
}

function decode(chunks: Buffer[]): string {
  return Buffer.concat(chunks).toString('utf8');
}

function sink(forward: ((chunk: Uint8Array) => void) | undefined, keep: Buffer[] | undefined): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      forward?.(chunk);
      keep?.push(chunk);
      done();
    },
  });
}

/** The subprotocols offered: v5 (CLOSE signal) and v4, both carry the exit status as a V1Status. */
const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

/** What Exec needs of a WebSocket connector (client-node's WebSocketInterface, not exported by its index). */
interface Connector {
  connect(path: string, textHandler: ((text: string) => boolean) | null, binaryHandler: ((stream: number, buff: Buffer) => boolean) | null): Promise<WebSocket>;
}

/**
 * A connector like client-node's WebSocketHandler that also keeps the body of a refused
 * handshake: `ws` alone rejects with "Unexpected server response: 403" and drops the Status
 * that names the missing RBAC rule.
 */
function connectorKeepingRefusals(kc: KubeConfig, refused: { failure?: HttpFailure }, onStreamError: (e: Error) => void): Connector {
  return {
    async connect(path, _textHandler, binaryHandler) {
      const cluster = kc.getCurrentCluster();
      if (cluster === null) throw new Error('no cluster in the current context');
      const url = cluster.server.replace(/^http/, 'ws') + path;
      const opts: WebSocket.ClientOptions = {};
      await kc.applyToHTTPSOptions(opts as Parameters<KubeConfig['applyToHTTPSOptions']>[0]);
      return new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(url, PROTOCOLS, opts);
        ws.on('unexpected-response', (request, response: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (c: Buffer) => {
            if (size < MAX_ERROR_BODY) chunks.push(c);
            size += c.length;
          });
          const fail = (): void => {
            refused.failure = { code: response.statusCode ?? 0, body: decode(chunks) };
            request.destroy();
            reject(new Error(`Unexpected server response: ${response.statusCode}`));
            ws.terminate();
          };
          response.on('end', fail);
          response.on('error', fail);
        });
        ws.once('open', () => resolve(ws));
        ws.on('error', reject);
        ws.on('message', (data: Buffer, isBinary: boolean) => {
          // Text frames carry nothing for exec; the server sends binary frames only.
          if (!isBinary || binaryHandler === null || data.length === 0) return;
          try {
            if (!binaryHandler(data[0], data.subarray(1))) ws.close(1000);
          } catch (e) {
            // An unknown channel id: the session cannot be trusted any more.
            onStreamError(e as Error);
            ws.close(1000);
          }
        });
      });
    },
  };
}

/** createExecPort runs commands in pod containers through the API server the KubeConfig points at. */
export function createExecPort(kc: KubeConfig): ExecPort {
  const server = kc.getCurrentCluster()?.server ?? '(no cluster)';
  return {
    async exec(req: ExecRequest): Promise<ExecResult> {
      const started = performance.now();
      const out: Buffer[] | undefined = req.collect ? [] : undefined;
      const err: Buffer[] | undefined = req.collect ? [] : undefined;
      const result = (fields: Partial<ExecResult>): ExecResult => ({
        pod: req.pod,
        container: req.container,
        argv: req.argv,
        exitCode: null,
        stdout: out ? decode(out) : '',
        stderr: err ? decode(err) : '',
        durationMs: Math.round(performance.now() - started),
        canceled: false,
        ...fields,
      });
      if (req.argv.length === 0) throw new TypeError('exec: argv is empty');
      if (req.signal?.aborted) return result({ canceled: true });

      const refused: { failure?: HttpFailure } = {};
      let status: V1Status | undefined;
      let sessionError: Error | undefined;
      let ws: WebSocket;
      try {
        const exec = new Exec(kc, connectorKeepingRefusals(kc, refused, (e) => (sessionError = e)));
        ws = (await exec.exec(
          req.pod.namespace,
          req.pod.name,
          req.container ?? '',
          req.argv,
          sink(req.onStdout, out),
          sink(req.onStderr, err),
          null,
          false,
          (s) => {
            status = s;
          },
        )) as unknown as WebSocket;
      } catch (e) {
        const call = { verb: 'create', resource: 'pods', subresource: 'exec', namespace: req.pod.namespace, name: req.pod.name, server };
        const failure = refused.failure ? translateHttpFailure(refused.failure, call) : translateApiError(e, call);
        return result({ error: failure.message, failure });
      }

      let canceled = false;
      const closeCode = await new Promise<number>((resolve) => {
        let graceTimer: NodeJS.Timeout | undefined;
        const onAbort = (): void => {
          canceled = true;
          // Closing the stream is how a client stops a remote command (the kubelet kills it on disconnect).
          ws.close(1000);
          graceTimer = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
        };
        ws.on('error', (e: Error) => {
          sessionError = e;
        });
        ws.once('close', (code: number) => {
          if (graceTimer !== undefined) clearTimeout(graceTimer);
          req.signal?.removeEventListener('abort', onAbort);
          resolve(code);
        });
        if (ws.readyState === WebSocket.CLOSED) {
          resolve(1000);
          return;
        }
        req.signal?.addEventListener('abort', onAbort, { once: true });
      });

      if (status !== undefined) {
        const exitCode = exitCodeOf(status);
        if (exitCode !== null) {
          const stderr = err ? decode(err) : '';
          const commandNotFound = exitCode === 127 || (exitCode === 126 && NOT_FOUND_TEXT.test(stderr));
          return result({ exitCode, canceled, ...(commandNotFound ? { commandNotFound } : {}) });
        }
        // A Failure without an exit code: the runtime could not start the command (containerd answers a
        // missing binary this way, as InternalError), or the API server failed the session.
        const message = (status.message ?? status.reason ?? 'exec failed').replace(/\s*\n\s*/g, '; ');
        return result({ canceled, error: message, ...(NOT_FOUND_TEXT.test(message) ? { commandNotFound: true } : {}) });
      }
      if (canceled) return result({ canceled: true });
      const why = sessionError ? `: ${sessionError.message}` : '';
      return result({
        error: `the exec stream to ${req.pod.namespace}/${req.pod.name} was cut without an exit status (WebSocket close ${closeCode}${why}): the API server restarted or the connection dropped`,
        streamLost: true,
      });
    },
  };
}
