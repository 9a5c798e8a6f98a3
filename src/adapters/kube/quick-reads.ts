/**
 * Short API reads for shell completion and `version`: each one is bounded by a deadline and its
 * HTTP request is aborted when the deadline passes, so an unreachable cluster cannot hold the
 * shell or keep the process alive (an unanswered connect would otherwise wait for minutes).
 */
import { CoreV1Api, Observable, type ConfigurationOptions, type ObservableMiddleware } from '@kubernetes/client-node';
import { homedir } from 'node:os';
import { AGENT_CONTAINER } from '../../app/ports.js';
import { DatapathError, EXIT } from '../../core/errors.js';
import { translateApiError, type ApiCall } from './api-errors.js';
import { loadKubeConfig, type KubeFlags } from './config.js';
import { boundCredentialPlugin } from './credential-plugin.js';
import { notKubeAnswer } from './request-bound.js';

/** An agent pod and the image of its cilium-agent container. */
export interface AgentImage {
  namespace: string;
  pod: string;
  node: string;
  image: string;
}

export interface QuickReads {
  /** The namespace of the context (or --namespace). */
  namespace: string;
  context: string;
  server: string;
  podNames(namespace: string): Promise<string[]>;
  namespaceNames(): Promise<string[]>;
  /** Cilium agent pods (label k8s-app=cilium) in every namespace, or in kube-system when listing all is forbidden. */
  agentImages(): Promise<AgentImage[]>;
}

/** The kubeconfig contexts by name, without contacting the cluster; [] when there is no kubeconfig. */
export function contextNames(flags: KubeFlags, env: NodeJS.ProcessEnv): string[] {
  try {
    return loadKubeConfig({ ...flags, context: undefined }, { env, home: env.HOME ?? homedir(), inClusterRoot: '' }).kc.contexts.map((c) => c.name);
  } catch {
    return [];
  }
}

/**
 * Request options whose middleware hands the request an AbortSignal: client-node 1.4 has no
 * timeout option, and its object-parameter API takes observable middleware.
 */
function withSignal(signal: AbortSignal): ConfigurationOptions<ObservableMiddleware> {
  return {
    middleware: [
      {
        pre: (ctx) => {
          ctx.setSignal(signal);
          return new Observable(Promise.resolve(ctx));
        },
        post: (ctx) => new Observable(Promise.resolve(ctx)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

/**
 * quickReads loads the kubeconfig like kubectl (throws its one-line DatapathError when there is
 * none) and returns reads that give up after `timeoutMs` each.
 */
export function quickReads(flags: KubeFlags, env: NodeJS.ProcessEnv, timeoutMs: number): QuickReads {
  const loaded = loadKubeConfig(flags, { env, home: env.HOME ?? homedir(), inClusterRoot: '' });
  boundCredentialPlugin(loaded.kc, timeoutMs);
  const core = loaded.kc.makeApiClient(CoreV1Api);

  async function bounded<T>(call: Omit<ApiCall, 'server'>, run: (options: ConfigurationOptions<ObservableMiddleware>) => Promise<T>): Promise<T> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const answer = await run(withSignal(abort.signal));
      const odd = notKubeAnswer(answer, loaded.server);
      if (odd) throw odd;
      return answer;
    } catch (e) {
      if (abort.signal.aborted) throw new DatapathError(`the API server ${loaded.server} did not answer within ${timeoutMs / 1000}s`, EXIT.error);
      throw translateApiError(e, { ...call, server: loaded.server });
    } finally {
      clearTimeout(timer);
    }
  }

  const agentsIn = async (namespace: string | undefined): Promise<AgentImage[]> => {
    const list = await bounded({ verb: 'list', resource: 'pods', namespace }, (o) =>
      namespace === undefined
        ? core.listPodForAllNamespaces({ labelSelector: 'k8s-app=cilium' }, o)
        : core.listNamespacedPod({ namespace, labelSelector: 'k8s-app=cilium' }, o),
    );
    return list.items.map((p) => ({
      namespace: p.metadata?.namespace ?? '',
      pod: p.metadata?.name ?? '',
      node: p.spec?.nodeName ?? '',
      image: (p.spec?.containers.find((c) => c.name === AGENT_CONTAINER) ?? p.spec?.containers[0])?.image ?? '',
    }));
  };

  return {
    namespace: loaded.namespace,
    context: loaded.context,
    server: loaded.server,
    async podNames(namespace) {
      const list = await bounded({ verb: 'list', resource: 'pods', namespace }, (o) => core.listNamespacedPod({ namespace }, o));
      return list.items.map((p) => p.metadata?.name ?? '').filter((n) => n !== '');
    },
    async namespaceNames() {
      const list = await bounded({ verb: 'list', resource: 'namespaces' }, (o) => core.listNamespace({}, o));
      return list.items.map((n) => n.metadata?.name ?? '').filter((n) => n !== '');
    },
    async agentImages() {
      try {
        return await agentsIn(undefined);
      } catch (e) {
        // Users allowed to list pods only in some namespaces still see Cilium's usual one.
        if (e instanceof DatapathError && e.exitCode === EXIT.forbidden) return agentsIn('kube-system');
        throw e;
      }
    },
  };
}
