/**
 * Kubernetes objects the lab serves, built from LabState: Nodes, the Pods the kernel side wired
 * (plus one Cilium agent pod per node when the state names none), Namespaces and CiliumEndpoints.
 * Field shapes follow what kube-apiserver, kubelet and the Cilium agent write.
 */
import { createHash, randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import type { LabNode, LabPod, LabState } from '../state.js';

export interface ObjectMeta {
  name: string;
  generateName?: string;
  namespace?: string;
  uid: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Record<string, unknown>[];
}

/** Any object the lab stores: typed where the server reads it, open elsewhere (client specs pass through). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  // Specs and statuses of client-created pods are kept as the client sent them.
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  status?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  // An Event's fields are at the top level (core/v1 Event has no spec).
  involvedObject?: { apiVersion?: string; kind?: string; namespace?: string; name?: string; uid?: string; fieldPath?: string };
  reason?: string;
  message?: string;
  source?: { component?: string; host?: string };
  type?: string;
  reportingComponent?: string;
  reportingInstance?: string;
  firstTimestamp?: string;
  lastTimestamp?: string;
  count?: number;
  eventTime?: null;
}

export const KUBELET_VERSION = 'v1.32.4';
export const CONTAINER_RUNTIME = 'containerd://1.7.24';
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** A stable UUID-shaped id derived from a name, so objects keep their uid across server restarts. */
export function stableUid(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('/')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A containerd-style 64-hex container id. */
export function containerId(podUid: string, container: string): string {
  return createHash('sha256').update(`${podUid}/${container}`).digest('hex');
}

/** The 5-character suffix alphabet of generated Kubernetes names (no vowels, no confusable digits). */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** A generated-name suffix, deterministic when seeded (agent pods) and random otherwise. */
export function nameSuffix(seed?: string): string {
  const bytes = seed === undefined ? randomBytes(5) : createHash('sha256').update(seed).digest();
  let out = '';
  for (let i = 0; i < 5; i++) out += SUFFIX_ALPHABET[bytes[i] % SUFFIX_ALPHABET.length];
  return out;
}

export function isAgentPod(pod: { labels?: Record<string, string> }): boolean {
  return pod.labels?.['k8s-app'] === 'cilium';
}

/** The state's pods plus a synthesized Cilium agent pod for every node whose agent the state does not list. */
export function labPods(state: LabState): LabPod[] {
  const pods = [...state.pods];
  for (const node of state.nodes) {
    if (pods.some((p) => p.node === node.name && isAgentPod(p))) continue;
    pods.push({
      namespace: 'kube-system',
      name: `cilium-${nameSuffix(`agent/${node.name}`)}`,
      uid: stableUid('agent', node.name),
      node: node.name,
      hostNetwork: true,
      ip: node.ip,
      labels: {
        'k8s-app': 'cilium',
        'app.kubernetes.io/name': 'cilium-agent',
        'app.kubernetes.io/part-of': 'cilium',
        'controller-revision-hash': nameSuffix(`rev/${state.ciliumVersion}`),
        'pod-template-generation': '1',
      },
      image: `quay.io/cilium/cilium:v${state.ciliumVersion}`,
      containers: ['cilium-agent'],
    });
  }
  return pods;
}

export function nodeObject(node: LabNode, index: number, createdAt: string, osImage: string): KubeObject {
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': node.name,
    'kubernetes.io/os': 'linux',
  };
  if (index === 0) {
    labels['node-role.kubernetes.io/control-plane'] = '';
    labels['node.kubernetes.io/exclude-from-external-load-balancers'] = '';
  }
  const bootId = stableUid('boot', node.name, createdAt);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      uid: stableUid('node', node.name),
      creationTimestamp: createdAt,
      labels,
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: { podCIDR: node.podCidr, podCIDRs: [node.podCidr] },
    status: {
      addresses: [
        { type: 'InternalIP', address: node.ip },
        { type: 'Hostname', address: node.name },
      ],
      // The lab's nodes share this machine, so each reports the machine's CPUs and memory.
      capacity: { cpu: String(cpus().length), memory: `${Math.floor(totalmem() / 1024)}Ki`, pods: '110' },
      allocatable: { cpu: String(cpus().length), memory: `${Math.floor(totalmem() / 1024) - 102400}Ki`, pods: '110' },
      conditions: [
        condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available', createdAt),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure', createdAt),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available', createdAt),
        condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status', createdAt),
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        architecture: 'amd64',
        bootID: bootId,
        containerRuntimeVersion: CONTAINER_RUNTIME,
        kernelVersion: node.kernel,
        kubeProxyVersion: KUBELET_VERSION,
        kubeletVersion: KUBELET_VERSION,
        machineID: stableUid('machine', node.name).replaceAll('-', ''),
        operatingSystem: 'linux',
        osImage,
        systemUUID: stableUid('system', node.name),
      },
    },
  };
}

function condition(type: string, status: string, reason: string, message: string, at: string): Record<string, string> {
  return { type, status, reason, message, lastHeartbeatTime: at, lastTransitionTime: at };
}

/** The Ready-style conditions of a running pod (kubelet's status manager). */
export function runningPodConditions(at: string): Record<string, unknown>[] {
  return ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({
    type,
    status: 'True',
    lastProbeTime: null,
    lastTransitionTime: at,
  }));
}

/** Container status of a running container. */
export function runningContainerStatus(podUid: string, name: string, image: string, startedAt: string): Record<string, unknown> {
  return {
    name,
    image,
    imageID: `${image.split(':')[0]}@sha256:${createHash('sha256').update(image).digest('hex')}`,
    containerID: `containerd://${containerId(podUid, name)}`,
    ready: true,
    started: true,
    restartCount: 0,
    state: { running: { startedAt } },
    lastState: {},
  };
}

/** Defaults the apiserver fills into every container. */
export function defaultedContainer(container: Record<string, unknown>): Record<string, unknown> {
  const image = String(container.image ?? '');
  const tag = image.includes('@') ? 'digest' : /:[^/]+$/.exec(image)?.[0].slice(1) ?? 'latest';
  return {
    imagePullPolicy: tag === 'latest' ? 'Always' : 'IfNotPresent',
    resources: {},
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    ...container,
  };
}

/** The cilium-agent container's securityContext of Cilium's Helm chart (install/kubernetes/cilium values: securityContext.capabilities.ciliumAgent). */
const AGENT_SECURITY_CONTEXT = {
  capabilities: { add: ['CHOWN', 'KILL', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'SYS_MODULE', 'SYS_ADMIN', 'SYS_RESOURCE', 'DAC_OVERRIDE', 'FOWNER', 'SETGID', 'SETUID'], drop: ['ALL'] },
  privileged: false,
  seLinuxOptions: { level: 's0', type: 'spc_t' },
};

export function labPodObject(pod: LabPod, node: LabNode | undefined, createdAt: string): KubeObject {
  const agent = isAgentPod(pod);
  const hostIP = node?.ip ?? pod.ip;
  const containers = pod.containers.map((name) =>
    defaultedContainer(agent ? { name, image: pod.image, command: ['cilium-agent'], args: ['--config-dir=/tmp/cilium/config-map'], securityContext: AGENT_SECURITY_CONTEXT } : { name, image: pod.image }),
  );
  const metadata: ObjectMeta = {
    name: pod.name,
    namespace: pod.namespace,
    uid: pod.uid,
    creationTimestamp: createdAt,
    labels: { ...pod.labels },
  };
  if (agent) {
    metadata.generateName = 'cilium-';
    metadata.ownerReferences = [
      { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'cilium', uid: stableUid('daemonset', 'cilium'), controller: true, blockOwnerDeletion: true },
    ];
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata,
    spec: {
      containers,
      dnsPolicy: pod.hostNetwork ? 'ClusterFirstWithHostNet' : 'ClusterFirst',
      enableServiceLinks: true,
      hostNetwork: pod.hostNetwork || undefined,
      nodeName: pod.node,
      preemptionPolicy: 'PreemptLowerPriority',
      priority: agent ? 2000001000 : 0,
      priorityClassName: agent ? 'system-node-critical' : undefined,
      restartPolicy: 'Always',
      schedulerName: 'default-scheduler',
      securityContext: {},
      serviceAccount: agent ? 'cilium' : 'default',
      serviceAccountName: agent ? 'cilium' : 'default',
      terminationGracePeriodSeconds: agent ? 1 : 30,
      tolerations: agent
        ? [{ operator: 'Exists' }]
        : [
            { effect: 'NoExecute', key: 'node.kubernetes.io/not-ready', operator: 'Exists', tolerationSeconds: 300 },
            { effect: 'NoExecute', key: 'node.kubernetes.io/unreachable', operator: 'Exists', tolerationSeconds: 300 },
          ],
    },
    status: {
      phase: 'Running',
      conditions: runningPodConditions(createdAt),
      hostIP,
      hostIPs: [{ ip: hostIP }],
      podIP: pod.ip,
      podIPs: [{ ip: pod.ip }],
      qosClass: 'BestEffort',
      startTime: createdAt,
      containerStatuses: pod.containers.map((name) => runningContainerStatus(pod.uid, name, pod.image, createdAt)),
    },
  };
}

/** Identity labels as the agent derives them from a pod (sorted, `k8s:` source prefix). */
export function identityLabels(pod: Pick<LabPod, 'namespace' | 'labels'>): string[] {
  return [
    ...Object.entries(pod.labels).map(([k, v]) => `k8s:${k}=${v}`),
    `k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=${pod.namespace}`,
    'k8s:io.cilium.k8s.policy.cluster=default',
    'k8s:io.cilium.k8s.policy.serviceaccount=default',
    `k8s:io.kubernetes.pod.namespace=${pod.namespace}`,
  ].sort();
}

/** The CiliumEndpoint the agent writes for a pod it manages (name and namespace = the pod's). */
export function ciliumEndpointObject(pod: LabPod, node: LabNode | undefined, createdAt: string): KubeObject | undefined {
  if (pod.endpointId === undefined) return undefined;
  const cid = containerId(pod.uid, pod.containers[0] ?? 'main');
  const disabled = { enforcing: false, state: '<status disabled>' };
  return {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumEndpoint',
    metadata: {
      name: pod.name,
      namespace: pod.namespace,
      uid: stableUid('cep', pod.uid),
      generation: 1,
      creationTimestamp: createdAt,
      labels: { ...pod.labels },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: pod.name, uid: pod.uid }],
    },
    status: {
      encryption: {},
      'external-identifiers': {
        'cni-attachment-id': `${cid}:eth0`,
        'container-id': cid,
        'k8s-namespace': pod.namespace,
        'k8s-pod-name': pod.name,
        'pod-name': `${pod.namespace}/${pod.name}`,
      },
      id: pod.endpointId,
      identity: { id: pod.identity ?? 0, labels: identityLabels(pod) },
      networking: { addressing: [{ ipv4: pod.ip }], node: node?.ip ?? '' },
      policy: { ingress: disabled, egress: disabled },
      state: 'ready',
      'visibility-policy-status': '<status disabled>',
    },
  };
}

export function namespaceObject(name: string, createdAt: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, uid: stableUid('namespace', name), creationTimestamp: createdAt, labels: { 'kubernetes.io/metadata.name': name } },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}
