/**
 * Every API request bounded (kubectl's --request-timeout) and ended by Ctrl-C: client-node 1.4
 * has no timeout option, so a middleware hands each request an AbortSignal that fires after the
 * timeout or when the command is interrupted. A server that accepts the connection and never
 * answers (or a TLS handshake that never completes) then costs at most the timeout, and the
 * aborted socket does not keep the process alive.
 */
import { createConfiguration, Observable, ServerConfiguration, type Configuration, type KubeConfig, type ObservableMiddleware } from '@kubernetes/client-node';
import { DatapathError, EXIT } from '../../core/errors.js';
import { boundCredentialPlugin } from './credential-plugin.js';

export { DEFAULT_REQUEST_TIMEOUT_MS } from './request-timeout.js';

/** RequestBound: the most one request may take (0: no limit, as kubectl's --request-timeout 0) and the command's interrupt. */
export interface RequestBound {
  timeoutMs: number;
  signal?: AbortSignal;
}

function boundMiddleware(bound: RequestBound): ObservableMiddleware {
  return {
    pre: (ctx) => {
      const signals = [bound.timeoutMs > 0 ? AbortSignal.timeout(bound.timeoutMs) : undefined, bound.signal].filter((s): s is AbortSignal => s !== undefined);
      if (signals.length > 0) ctx.setSignal(signals.length === 1 ? signals[0] : AbortSignal.any(signals));
      return new Observable(Promise.resolve(ctx));
    },
    post: (ctx) => new Observable(Promise.resolve(ctx)),
  };
}

/** boundedApiClient is kc.makeApiClient with every request of the client bounded. */
export function boundedApiClient<T>(kc: KubeConfig, apiClientType: new (config: Configuration) => T, bound: RequestBound): T {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new DatapathError('the kubeconfig context has no cluster: check current-context and its cluster in the kubeconfig', EXIT.error);
  boundCredentialPlugin(kc, bound.timeoutMs, bound.signal);
  const config = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: kc },
    middleware: [boundMiddleware(bound)],
  });
  return new apiClientType(config);
}

/**
 * boundError: the one line for a request the bound ended, or undefined when `err` is not an abort.
 * Interrupted is exit 130; a timeout says which server and how long.
 */
export function boundError(err: unknown, bound: RequestBound, server: string): DatapathError | undefined {
  const e = err as { name?: unknown; code?: unknown; type?: unknown } | null;
  const aborted = e !== null && typeof e === 'object' && (e.name === 'AbortError' || e.name === 'TimeoutError' || e.code === 'ABORT_ERR' || e.type === 'aborted');
  if (!aborted) return undefined;
  if (bound.signal?.aborted) return new DatapathError('interrupted while waiting for the API server', EXIT.interrupted);
  return new DatapathError(`the API server ${server} did not answer within ${bound.timeoutMs / 1000}s (--request-timeout): check that it is up and reachable, or raise --request-timeout`, EXIT.error);
}

/**
 * answerOrError checks that a 200 answer is a Kubernetes object (a list with items, or an object
 * with metadata, status or kind). A proxy or login page answering 200 with HTML otherwise reads as
 * an empty object: a pod with no node, or a list whose items are missing.
 */
export function notKubeAnswer(answer: unknown, server: string): DatapathError | undefined {
  if (answer !== null && typeof answer === 'object') {
    const o = answer as Record<string, unknown>;
    if ('items' in o ? Array.isArray(o.items) : o.metadata !== undefined || o.status !== undefined || o.kind !== undefined) return undefined;
  }
  return new DatapathError(`the server at ${server} answered with something that is not a Kubernetes API object (an HTML page from a proxy or a login portal?): check the cluster address in the kubeconfig`, EXIT.error);
}
