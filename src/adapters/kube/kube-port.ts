/**
 * KubePort over @kubernetes/client-node 1.4: pods, nodes, CiliumEndpoints (cilium.io/v2), the
 * Cilium agent pod of a node, probe pod create/wait/delete, SelfSubjectAccessReview and the Pod
 * Security level of a namespace. Every failure is a DatapathError of one line (api-errors.ts).
 */
import { AuthorizationV1Api, CoreV1Api, CustomObjectsApi, DiscoveryV1Api, Watch, type KubeConfig, type V1Pod, type V1Service } from '@kubernetes/client-node';
import { AGENT_CONTAINER, POLICY_RESOURCES, type KubePort, type NodeInfo, type PodInfo, type PodRef, type ProbePodSpec, type ServiceBackendInfo, type ServiceInfo } from '../../app/ports.js';
import { DatapathError, EXIT, NotFoundError } from '../../core/errors.js';
import { translateApiError, type ApiCall } from './api-errors.js';
import { boundedApiClient, boundError, DEFAULT_REQUEST_TIMEOUT_MS, notKubeAnswer, type RequestBound } from './request-bound.js';

/** KubePortOptions: the namespace of the context and where the Cilium agents live. */
export interface KubePortOptions {
  namespace: string;
  /** Namespace of the agent DaemonSet (the Helm release namespace); default kube-system. */
  agentNamespace?: string;
  /** Label selector of agent pods; default `k8s-app=cilium` (the DaemonSet's selector). */
  agentSelector?: string;
  /** How long one watch request may stay open before it is listed and watched again; default 300 s. */
  watchTimeoutSeconds?: number;
  /** The bound of every other request (--request-timeout) and the command's interrupt. */
  bound?: RequestBound;
}

const PSA_ENFORCE = 'pod-security.kubernetes.io/enforce';
/** Waiting reasons after which a container will not start without someone changing something. */
const STUCK_REASONS = new Set(['ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'CreateContainerConfigError', 'CreateContainerError', 'CrashLoopBackOff']);
const WATCH_RETRY_MS = 500;

/** The parts of a pod (typed from a list, raw JSON from a watch) that decide whether it runs. */
interface PodState {
  metadata?: { name?: string; namespace?: string; deletionTimestamp?: unknown };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    containerStatuses?: { name?: string; state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number } } }[];
  };
}

/** podInfo: what the use cases need of a V1Pod. */
export function podInfo(pod: V1Pod): PodInfo {
  const meta = pod.metadata ?? {};
  const status = pod.status ?? {};
  const ips = status.podIPs?.map((p) => p.ip).filter((ip): ip is string => typeof ip === 'string' && ip !== '') ?? [];
  if (ips.length === 0 && status.podIP) ips.push(status.podIP);
  return {
    namespace: meta.namespace ?? '',
    name: meta.name ?? '',
    uid: meta.uid ?? '',
    node: pod.spec?.nodeName ?? '',
    ips,
    hostNetwork: pod.spec?.hostNetwork === true,
    phase: status.phase ?? 'Unknown',
    containers: (pod.spec?.containers ?? []).map((c) => ({ name: c.name, image: c.image ?? '' })),
    labels: meta.labels ?? {},
  };
}

/** Why a pod is not running yet, in a few words (phase, then the first container's waiting reason). */
function podProgress(pod: PodState): string {
  const phase = pod.status?.phase ?? 'Unknown';
  const waiting = pod.status?.containerStatuses?.find((c) => c.state?.waiting?.reason)?.state?.waiting;
  if (waiting?.reason) return `${phase}: ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}`;
  if (pod.status?.reason) return `${phase}: ${pod.status.reason}${pod.status.message ? ` (${pod.status.message})` : ''}`;
  return phase;
}

function probePodBody(spec: ProbePodSpec): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: spec.name, namespace: spec.namespace, labels: spec.labels },
    spec: {
      nodeName: spec.node,
      hostNetwork: spec.hostNetwork ?? true,
      hostPID: spec.hostPID ?? true,
      restartPolicy: 'Never',
      activeDeadlineSeconds: spec.activeDeadlineSeconds,
      terminationGracePeriodSeconds: 0,
      automountServiceAccountToken: false,
      // Probes must run on the node of the pod they watch, tainted or not.
      tolerations: [{ operator: 'Exists' }],
      containers: [
        {
          name: spec.container ?? 'probe',
          image: spec.image,
          command: spec.command ?? ['sleep', String(spec.activeDeadlineSeconds)],
          securityContext: spec.privileged ? { privileged: true } : { capabilities: { add: spec.capabilities } },
        },
      ],
    },
  };
}

function httpStatusOf(err: unknown): number | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === 'number') return e.code;
  return typeof e.statusCode === 'number' ? e.statusCode : undefined;
}

/** createKubePort implements KubePort for the context the KubeConfig has selected. */
export function createKubePort(kc: KubeConfig, opts: KubePortOptions): KubePort {
  const server = kc.getCurrentCluster()?.server ?? '(no cluster)';
  const bound = opts.bound ?? { timeoutMs: DEFAULT_REQUEST_TIMEOUT_MS };
  const core = boundedApiClient(kc, CoreV1Api, bound);
  const custom = boundedApiClient(kc, CustomObjectsApi, bound);
  const authz = boundedApiClient(kc, AuthorizationV1Api, bound);
  const discovery = boundedApiClient(kc, DiscoveryV1Api, bound);
  const agentNamespace = opts.agentNamespace ?? 'kube-system';
  const agentSelector = opts.agentSelector ?? 'k8s-app=cilium';
  // Servers end watches anyway (kube-apiserver: --min-request-timeout, 5-10 min); asking for less bounds a silent stall.
  const watchTimeoutSeconds = opts.watchTimeoutSeconds ?? 300;

  /** Runs one API call, translating its failure with what the call was. */
  async function call<T>(what: Omit<ApiCall, 'server'>, run: () => Promise<T>): Promise<T> {
    let answer: T;
    try {
      answer = await run();
    } catch (e) {
      throw boundError(e, bound, server) ?? translateApiError(e, { ...what, server });
    }
    const odd = notKubeAnswer(answer, server);
    if (odd) throw odd;
    return answer;
  }

  async function listPods(namespace: string | undefined, selectors: { labelSelector?: string; fieldSelector?: string }): Promise<PodInfo[]> {
    const list = await call({ verb: 'list', resource: 'pods', namespace }, () =>
      namespace === undefined ? core.listPodForAllNamespaces({ ...selectors }) : core.listNamespacedPod({ namespace, ...selectors }),
    );
    return list.items.map(podInfo);
  }

  async function getPod(ref: PodRef): Promise<PodInfo> {
    return podInfo(await call({ verb: 'get', resource: 'pods', ...ref }, () => core.readNamespacedPod(ref)));
  }

  function waitForRunning(ref: PodRef, timeoutMs: number, signal?: AbortSignal): Promise<PodInfo> {
    const { namespace, name } = ref;
    const fieldSelector = `metadata.name=${name}`;
    return new Promise<PodInfo>((resolve, reject) => {
      let settled = false;
      let watch: AbortController | undefined;
      let progress = 'not seen yet';
      let lastError: string | undefined;
      const finish = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        watch?.abort();
        outcome();
      };
      const timer = setTimeout(() => {
        const why = lastError === undefined ? '' : `; last error: ${lastError}`;
        finish(() => reject(new DatapathError(`pod ${namespace}/${name} is not Running after ${Math.round(timeoutMs / 100) / 10}s (${progress}${why})`, EXIT.error)));
      }, timeoutMs);
      const onAbort = (): void => finish(() => reject(new DatapathError(`canceled while waiting for pod ${namespace}/${name} to run`, EXIT.interrupted)));
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });

      /** Settles on Running, Failed/Succeeded, a stuck container or deletion; returns whether it did. */
      const judge = (pod: PodState, typed?: V1Pod): boolean => {
        progress = podProgress(pod);
        const phase = pod.status?.phase;
        if (phase === 'Running' && pod.metadata?.deletionTimestamp === undefined) {
          // Watch objects are raw JSON, not V1Pod; podInfo reads only strings, booleans and
          // arrays of them, named alike in both, so the watch event needs no second read.
          finish(() => resolve(podInfo(typed ?? (pod as V1Pod))));
          return true;
        }
        if (phase === 'Failed' || phase === 'Succeeded') {
          finish(() => reject(new DatapathError(`pod ${namespace}/${name} ended before it ran our commands (${progress})`, EXIT.error)));
          return true;
        }
        const stuck = pod.status?.containerStatuses?.find((c) => STUCK_REASONS.has(c.state?.waiting?.reason ?? ''));
        if (stuck !== undefined) {
          finish(() => reject(new DatapathError(`pod ${namespace}/${name} cannot start container ${stuck.name ?? ''}: ${progress}`, EXIT.error)));
          return true;
        }
        return false;
      };

      // List, then watch from the list's resourceVersion; when the watch ends (server timeout,
      // dropped connection, 410 Gone) list and watch again until the pod settles or time runs out.
      const cycle = async (): Promise<void> => {
        if (settled) return;
        let resourceVersion: string | undefined;
        try {
          const list = await core.listNamespacedPod({ namespace, fieldSelector });
          if (settled) return;
          const pod = list.items[0];
          if (pod === undefined) {
            finish(() => reject(new NotFoundError(`pod ${namespace}/${name} does not exist (deleted while we waited?)`)));
            return;
          }
          if (judge(pod as PodState, pod)) return;
          resourceVersion = list.metadata?.resourceVersion;
        } catch (e) {
          const status = httpStatusOf(e);
          if (status !== undefined && status < 500) {
            finish(() => reject(translateApiError(e, { verb: 'list', resource: 'pods', namespace, server })));
            return;
          }
          lastError = translateApiError(e, { verb: 'list', resource: 'pods', namespace, server }).message;
          setTimeout(() => void cycle(), WATCH_RETRY_MS);
          return;
        }
        const controller = await new Watch(kc).watch(
          `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
          { fieldSelector, resourceVersion, allowWatchBookmarks: true, timeoutSeconds: watchTimeoutSeconds },
          (type: string, obj: PodState) => {
            if (settled || type === 'BOOKMARK' || type === 'ERROR') return;
            if (type === 'DELETED') finish(() => reject(new NotFoundError(`pod ${namespace}/${name} was deleted while we waited for it to run (${podProgress(obj)})`)));
            else judge(obj);
          },
          (err: unknown) => {
            if (settled) return;
            const status = httpStatusOf(err);
            if (status !== undefined && status < 500 && status !== 410) {
              finish(() => reject(translateApiError(err, { verb: 'watch', resource: 'pods', namespace, server })));
              return;
            }
            if (err) lastError = translateApiError(err, { verb: 'watch', resource: 'pods', namespace, server }).message;
            setTimeout(() => void cycle(), err ? WATCH_RETRY_MS : 0);
          },
        );
        if (settled) controller.abort();
        else watch = controller;
      };
      void cycle();
    });
  }

  return {
    defaultNamespace: () => opts.namespace,
    getPod,
    listPods,

    async podEvents(ref) {
      const list = await call({ verb: 'list', resource: 'events', namespace: ref.namespace }, () =>
        core.listNamespacedEvent({ namespace: ref.namespace, fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${ref.name}` }),
      );
      return list.items.map((e) => ({ reason: e.reason ?? '', message: e.message ?? '' }));
    },

    async getService(ref) {
      return serviceInfo(await call({ verb: 'get', resource: 'services', ...ref }, () => core.readNamespacedService(ref)));
    },

    async listServices(namespace) {
      const list = await call({ verb: 'list', resource: 'services', namespace }, () => (namespace === undefined ? core.listServiceForAllNamespaces({}) : core.listNamespacedService({ namespace })));
      return list.items.map(serviceInfo);
    },

    async listServiceBackends(ref) {
      const list = await call({ verb: 'list', resource: 'endpointslices', group: 'discovery.k8s.io', namespace: ref.namespace }, () =>
        discovery.listNamespacedEndpointSlice({ namespace: ref.namespace, labelSelector: `kubernetes.io/service-name=${ref.name}` }),
      );
      const out: ServiceBackendInfo[] = [];
      for (const slice of list.items) {
        const ports = Object.fromEntries((slice.ports ?? []).filter((p) => p.port !== undefined).map((p) => [p.name ?? '', p.port as number]));
        for (const e of slice.endpoints ?? []) {
          // A terminating or not-ready endpoint is not a backend the load balancer picks for new connections.
          if (e.conditions?.ready === false) continue;
          for (const ip of e.addresses) {
            const b: ServiceBackendInfo = { ip, ports };
            if (e.nodeName) b.node = e.nodeName;
            if (e.targetRef?.kind === 'Pod' && e.targetRef.name) b.pod = { namespace: e.targetRef.namespace ?? ref.namespace, name: e.targetRef.name };
            out.push(b);
          }
        }
      }
      return out;
    },

    async getNode(name) {
      const node = await call({ verb: 'get', resource: 'nodes', name }, () => core.readNode({ name }));
      const info: NodeInfo = { name: node.metadata?.name ?? name };
      const internal = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
      if (internal) info.internalIp = internal;
      const ni = node.status?.nodeInfo;
      if (ni?.kernelVersion) info.kernelVersion = ni.kernelVersion;
      if (ni?.osImage) info.osImage = ni.osImage;
      if (ni?.containerRuntimeVersion) info.containerRuntime = ni.containerRuntimeVersion;
      return info;
    },

    async getCiliumEndpoint(ref) {
      try {
        return (await custom.getNamespacedCustomObject({ group: 'cilium.io', version: 'v2', plural: 'ciliumendpoints', ...ref })) as unknown;
      } catch (e) {
        const error = boundError(e, bound, server) ?? translateApiError(e, { verb: 'get', resource: 'ciliumendpoints', group: 'cilium.io', ...ref, server });
        // No CEP of that name: the pod is not (yet) managed; a missing resource type stays an error.
        if (error instanceof NotFoundError && !error.message.includes('does not serve')) return undefined;
        throw error;
      }
    },

    async listPolicyObjects(resource) {
      const { group, version, kind } = POLICY_RESOURCES[resource];
      let answer: unknown;
      try {
        // The cluster-wide list path of a namespaced resource lists every namespace.
        answer = await call({ verb: 'list', resource, group }, () => custom.listClusterCustomObject({ group, version, plural: resource }));
      } catch (e) {
        // A resource the cluster does not serve (no CCNP before Cilium 1.7, no Cilium CRDs): it holds no policy.
        if (e instanceof NotFoundError) return [];
        throw e;
      }
      const items = (answer as { items?: unknown }).items;
      // Items of a typed list come without apiVersion and kind (kubectl adds them when it prints).
      return Array.isArray(items) ? items.map((i) => ({ apiVersion: `${group}/${version}`, kind, ...(i as object) })) : [];
    },

    async findAgentPod(node) {
      const pods = await listPods(agentNamespace, { labelSelector: agentSelector, fieldSelector: `spec.nodeName=${node}` });
      const agents = pods.filter((p) => p.containers.some((c) => c.name === AGENT_CONTAINER));
      if (agents.length === 0) {
        throw new NotFoundError(`no Cilium agent pod on node ${node} (namespace ${agentNamespace}, label ${agentSelector}, container ${AGENT_CONTAINER}): is Cilium running there?`);
      }
      // During a rollout the old and the new agent may both exist; only a Running one answers exec.
      const running = agents.find((p) => p.phase === 'Running');
      if (running === undefined) throw new DatapathError(`the Cilium agent pod ${agentNamespace}/${agents[0].name} on node ${node} is ${agents[0].phase}, not Running`, EXIT.error);
      return running;
    },

    async createPod(spec) {
      const created = await call({ verb: 'create', resource: 'pods', namespace: spec.namespace, name: spec.name }, () =>
        core.createNamespacedPod({ namespace: spec.namespace, body: probePodBody(spec) }),
      );
      return podInfo(created);
    },

    waitForRunning,

    async deletePod(ref) {
      try {
        await core.deleteNamespacedPod({ ...ref, gracePeriodSeconds: 0 });
      } catch (e) {
        // Already gone is what we wanted: deleting is idempotent (cleanup may run twice).
        if (httpStatusOf(e) === 404) return;
        throw boundError(e, bound, server) ?? translateApiError(e, { verb: 'delete', resource: 'pods', ...ref, server });
      }
    },

    async canI(check) {
      const review = await call({ verb: 'create', resource: 'selfsubjectaccessreviews', group: 'authorization.k8s.io' }, () =>
        authz.createSelfSubjectAccessReview({
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SelfSubjectAccessReview',
            spec: {
              resourceAttributes: {
                verb: check.verb,
                resource: check.resource,
                subresource: check.subresource,
                namespace: check.namespace,
                group: check.group ?? '',
              },
            },
          },
        }),
      );
      const reason = review.status?.reason || review.status?.evaluationError || undefined;
      return reason === undefined ? { allowed: review.status?.allowed === true } : { allowed: review.status?.allowed === true, reason };
    },

    async podSecurityLevel(namespace) {
      const ns = await call({ verb: 'get', resource: 'namespaces', name: namespace }, () => core.readNamespace({ name: namespace }));
      return ns.metadata?.labels?.[PSA_ENFORCE];
    },
  };
}

function serviceInfo(svc: V1Service): ServiceInfo {
  const spec = svc.spec ?? {};
  const clusterIPs = (spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : [])).filter((ip) => ip !== 'None');
  return {
    namespace: svc.metadata?.namespace ?? '',
    name: svc.metadata?.name ?? '',
    type: spec.type ?? 'ClusterIP',
    clusterIPs,
    ports: (spec.ports ?? []).map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? 'TCP', targetPort: p.targetPort as number | string | undefined, nodePort: p.nodePort })),
  };
}
