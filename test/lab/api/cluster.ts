/**
 * The lab cluster as the API server sees it: objects derived from LabState (re-read when
 * state.json changes), pods created through the API with a kubelet-like lifecycle (Pending ->
 * Running, activeDeadlineSeconds -> Failed), and where each pod's exec must run.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabNode, LabPod, LabState } from '../state.js';
import { prepareImage } from './images.js';
import { LatencyHook, type PodStartEvent } from './latency-hook.js';
import { stopInit } from './node-init.js';
import {
  ciliumEndpointObject,
  defaultedContainer,
  labPodObject,
  labPods,
  namespaceObject,
  nameSuffix,
  nodeObject,
  runningContainerStatus,
  runningPodConditions,
  SYSTEM_NAMESPACES,
  type KubeObject,
} from './objects.js';
import { ProcessGroups, type ProcessRecord } from './processes.js';
import { ObjectStore, type Resource } from './store.js';
import { PolicyAgent } from './policies.js';
import { serviceObjects } from './services.js';
import { alreadyExists, badRequest, invalid, notFound } from './status.js';

/** How long an API-created pod stays Pending before its "containers" run. */
export const PENDING_MS = 200;

/** What `down` reads to kill what a dead server left behind. */
export interface LeftoverFile {
  pods: KubeObject[];
  processes: ProcessRecord[];
}

/** Where and with which image an exec into a pod runs. */
export interface ExecTarget {
  podKey: string;
  node: LabNode;
  netns: string;
  image: string;
  binDir: string;
  container: string;
  /** Named netns the command sees in /run/netns: the node's pods when the spec mounts the host's /run/netns, else none. */
  visibleNetns: string[];
  /** The node's pods' named netns (what the node's own /run/netns holds). */
  nodeNetnsNames: string[];
  /** spec.hostPID: the command runs in the node's PID namespace (else in one of its own). */
  hostPID: boolean;
  /** The container's capabilities as a setpriv bounding set (`all` when privileged). */
  capabilities: string;
  /** Empty directory confine.sh mounts over while it builds that view. */
  stashDir: string;
}

/** Kubernetes timestamps have second precision (RFC 3339, `Z`). */
export function timestamp(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function podKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

interface CreatedPod {
  timers: NodeJS.Timeout[];
}

export class LabCluster {
  readonly store = new ObjectStore();
  readonly processes: ProcessGroups;
  /** The latency model's waits (none unless the lab is up with --latency). */
  readonly latency = new LatencyHook(() => this.state);
  private state: LabState;
  private stateMtime = 0;
  private readonly labPodsByKey = new Map<string, LabPod>();
  /** Lab pods deleted through the API stay deleted even when state.json is re-read. */
  private readonly deletedLabPods = new Set<string>();
  private readonly created = new Map<string, CreatedPod>();
  private readonly binDirs = new Map<string, string>();
  private readonly stashDir: string;
  /** The probe-pending fault: whether the kubelet cannot pull this pod's image now (test/lab/api/faults.ts). */
  imagePullBlocked?: (pod: KubeObject) => boolean;

  constructor(
    private readonly statePath: string,
    private readonly osImage: string,
    private readonly log: (line: string) => void,
  ) {
    this.processes = new ProcessGroups(() => this.persist());
    this.state = this.readState();
    this.stashDir = join(this.state.dir, 'netns-stash');
    mkdirSync(this.stashDir, { recursive: true });
    this.syncState();
    this.policyAgent = new PolicyAgent(this.store, () => this.state, log);
  }

  readonly policyAgent: PolicyAgent;

  get labDir(): string {
    return this.state.dir;
  }

  get labState(): LabState {
    return this.state;
  }

  private readState(): LabState {
    this.stateMtime = statSync(this.statePath).mtimeMs;
    return JSON.parse(readFileSync(this.statePath, 'utf8')) as LabState;
  }

  /** Re-reads state.json when the kernel side rewrote it; cheap enough to call on every request. */
  reloadIfChanged(): void {
    let mtime: number;
    try {
      mtime = statSync(this.statePath).mtimeMs;
    } catch {
      return;
    }
    if (mtime === this.stateMtime) return;
    try {
      this.state = this.readState();
    } catch (e) {
      this.log(`state.json unreadable, keeping the previous state: ${(e as Error).message}`);
      return;
    }
    this.syncState();
  }

  /** Puts an object only when it differs, so re-reading an unchanged state sends no watch events. */
  private putIfChanged(resource: Resource, object: KubeObject): void {
    const current = this.store.get(resource, object.metadata.namespace, object.metadata.name);
    if (current) {
      const { resourceVersion: _ignored, ...meta } = current.metadata;
      if (JSON.stringify({ ...current, metadata: meta }) === JSON.stringify(object)) return;
    }
    this.store.put(resource, object);
  }

  private syncState(): void {
    const { state } = this;
    const nodes = new Map(state.nodes.map((n) => [n.name, n]));
    state.nodes.forEach((node, i) => this.putIfChanged('nodes', nodeObject(node, i, state.createdAt, this.osImage)));
    for (const old of this.store.list('nodes')) if (!nodes.has(old.metadata.name)) this.store.remove('nodes', undefined, old.metadata.name);

    const pods = labPods(state).filter((p) => !this.deletedLabPods.has(p.uid));
    const namespaces = new Set([...SYSTEM_NAMESPACES, ...pods.map((p) => p.namespace)]);
    for (const ns of namespaces) this.putIfChanged('namespaces', namespaceObject(ns, state.createdAt));

    const seen = new Set<string>();
    for (const pod of pods) {
      const key = podKey(pod.namespace, pod.name);
      seen.add(key);
      this.labPodsByKey.set(key, pod);
      this.putIfChanged('pods', labPodObject(pod, nodes.get(pod.node), state.createdAt));
      const cep = ciliumEndpointObject(pod, nodes.get(pod.node), state.createdAt);
      if (cep) this.putIfChanged('ciliumendpoints', cep);
      else this.store.remove('ciliumendpoints', pod.namespace, pod.name);
      this.binDirFor(pod.image);
    }
    // Services and their EndpointSlices, kept in step with the lab's pods.
    const { services, slices } = serviceObjects(pods, state.createdAt);
    for (const svc of services) this.putIfChanged('services', svc);
    for (const slice of slices) this.putIfChanged('endpointslices', slice);
    for (const [key, pod] of [...this.labPodsByKey]) {
      if (seen.has(key)) continue;
      this.labPodsByKey.delete(key);
      this.processes.killPod(key);
      this.store.remove('pods', pod.namespace, pod.name);
      this.store.remove('ciliumendpoints', pod.namespace, pod.name);
    }
  }

  /** The image's command directory, built once per server run. */
  private binDirFor(image: string): string {
    let dir = this.binDirs.get(image);
    if (dir === undefined) {
      const prepared = prepareImage(this.state.dir, image);
      if (prepared.missing.length > 0) this.log(`image ${image}: not on this machine, left out: ${prepared.missing.join(' ')}`);
      dir = prepared.binDir;
      this.binDirs.set(image, dir);
    }
    return dir;
  }

  labPod(namespace: string, name: string): LabPod | undefined {
    return this.labPodsByKey.get(podKey(namespace, name));
  }

  private node(name: string | undefined): LabNode | undefined {
    return this.state.nodes.find((n) => n.name === name);
  }

  /** Validates and stores a client's pod, then runs the kubelet-like lifecycle on it. */
  createPod(namespace: string, body: KubeObject): KubeObject {
    if (!this.store.get('namespaces', undefined, namespace)) throw notFound('', 'namespaces', namespace);
    if (body.metadata?.namespace && body.metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const name = body.metadata?.name || (body.metadata?.generateName ? `${body.metadata.generateName}${nameSuffix()}` : '');
    const containers: Record<string, unknown>[] = Array.isArray(body.spec?.containers) ? body.spec.containers : [];
    const causes: Parameters<typeof invalid>[2] = [];
    if (!name) causes.push({ field: 'metadata.name', message: 'Required value: name or generateName is required', reason: 'FieldValueRequired' });
    if (containers.length === 0) causes.push({ field: 'spec.containers', message: 'Required value', reason: 'FieldValueRequired' });
    containers.forEach((c, i) => {
      if (!c.name) causes.push({ field: `spec.containers[${i}].name`, message: 'Required value', reason: 'FieldValueRequired' });
      if (!c.image) causes.push({ field: `spec.containers[${i}].image`, message: 'Required value', reason: 'FieldValueRequired' });
    });
    if (causes.length > 0) throw invalid('Pod', name, causes);
    if (this.store.get('pods', namespace, name)) throw alreadyExists('', 'pods', name);

    const now = timestamp();
    const spec = {
      dnsPolicy: body.spec?.hostNetwork ? 'ClusterFirstWithHostNet' : 'ClusterFirst',
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
      priority: 0,
      restartPolicy: 'Always',
      schedulerName: 'default-scheduler',
      securityContext: {},
      serviceAccount: 'default',
      serviceAccountName: 'default',
      terminationGracePeriodSeconds: 30,
      ...body.spec,
      containers: containers.map(defaultedContainer),
    };
    if (!spec.nodeName) spec.nodeName = this.schedule(spec.nodeSelector)?.name;
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { ...body.metadata, name, namespace, uid: randomUUID(), creationTimestamp: now },
      spec,
      status: {
        phase: 'Pending',
        qosClass: 'BestEffort',
        conditions: spec.nodeName ? [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now }] : [],
      },
    };
    delete pod.metadata.resourceVersion;
    const stored = this.store.put('pods', pod);
    const entry: CreatedPod = { timers: [] };
    this.created.set(podKey(namespace, name), entry);
    const images = spec.containers.map((c: { image: string }) => c.image);
    const kubeletEvent = (e: PodStartEvent) => {
      if (this.created.get(podKey(namespace, name)) === entry) this.podEvent(stored, spec.nodeName ?? '', e);
    };
    void this.latency.podStart(`${namespace}/${name}`, spec.nodeName ?? '', images, PENDING_MS, kubeletEvent).then(() => {
      if (this.created.get(podKey(namespace, name)) === entry) this.startPod(namespace, name);
    });
    this.persist();
    return stored;
  }

  /** An Event about a pod, as the scheduler (Scheduled) or the kubelet (pulls, container start) records it. */
  private podEvent(pod: KubeObject, node: string, e: PodStartEvent): void {
    const now = timestamp();
    const component = e.reason === 'Scheduled' ? 'default-scheduler' : 'kubelet';
    const container = (pod.spec.containers as { name: string }[])[0]?.name;
    this.store.put('events', {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${pod.metadata.name}.${randomUUID().replaceAll('-', '').slice(0, 16)}`, namespace: pod.metadata.namespace, uid: randomUUID(), creationTimestamp: now },
      involvedObject: {
        apiVersion: 'v1',
        kind: 'Pod',
        namespace: pod.metadata.namespace,
        name: pod.metadata.name,
        uid: pod.metadata.uid,
        ...(e.reason !== 'Scheduled' && container ? { fieldPath: `spec.containers{${container}}` } : {}),
      },
      reason: e.reason,
      message: e.message,
      source: component === 'kubelet' ? { component, host: node } : { component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type: 'Normal',
      eventTime: null,
      reportingComponent: component,
      reportingInstance: component === 'kubelet' ? node : '',
    } as KubeObject);
  }

  /** The node a scheduler would bind to: the first whose labels satisfy the nodeSelector. */
  private schedule(nodeSelector: Record<string, string> | undefined): LabNode | undefined {
    const objects = this.store.list('nodes');
    const fits = objects.find((n) => Object.entries(nodeSelector ?? {}).every(([k, v]) => n.metadata.labels?.[k] === v));
    return this.node(fits?.metadata.name);
  }

  /** Pending -> Running for a hostNetwork pod on a known node; other pods stay Pending with the reason. */
  private startPod(namespace: string, name: string): void {
    const current = this.store.get('pods', namespace, name);
    if (!current) return;
    if (this.imagePullBlocked?.(current)) return this.pullBackOff(namespace, name);
    const node = this.node(current.spec.nodeName);
    if (!node || !current.spec.hostNetwork) {
      const why = !node
        ? `node "${current.spec.nodeName ?? ''}" is not a lab node`
        : 'the lab runs API-created pods only with hostNetwork: true (it has no CNI to give them a network namespace)';
      this.log(`pod ${namespace}/${name} stays Pending: ${why}`);
      this.store.update('pods', namespace, name, (p) => {
        p.metadata.annotations = { ...p.metadata.annotations, 'lab.kubectl-datapath.io/pending-reason': why };
        p.status.containerStatuses = waitingStatuses(p, () => ({ reason: 'ContainerCreating' }));
      });
      return;
    }
    const started = timestamp();
    for (const c of current.spec.containers as { image: string }[]) this.binDirFor(c.image);
    this.store.update('pods', namespace, name, (p) => {
      p.status = {
        ...p.status,
        phase: 'Running',
        conditions: runningPodConditions(started),
        hostIP: node.ip,
        hostIPs: [{ ip: node.ip }],
        podIP: node.ip,
        podIPs: [{ ip: node.ip }],
        startTime: started,
        containerStatuses: p.spec.containers.map((c: { name: string; image: string }) => runningContainerStatus(p.metadata.uid, c.name, c.image, started)),
      };
    });
    const deadline = Number(current.spec.activeDeadlineSeconds);
    if (Number.isFinite(deadline) && deadline > 0) {
      this.created.get(podKey(namespace, name))?.timers.push(setTimeout(() => this.exceedDeadline(namespace, name), deadline * 1000));
    }
    this.persist();
  }

  /** The image does not pull: ErrImagePull, then ImagePullBackOff; the kubelet tries again later. */
  private pullBackOff(namespace: string, name: string): void {
    this.store.update('pods', namespace, name, (p) => {
      const first = p.status.containerStatuses === undefined;
      p.status.containerStatuses = waitingStatuses(p, (image) =>
        first
          ? { reason: 'ErrImagePull', message: `failed to pull and unpack image "${image}": failed to resolve reference "${image}": unexpected status from HEAD request: 503 Service Unavailable` }
          : { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` },
      );
    });
    this.created.get(podKey(namespace, name))?.timers.push(setTimeout(() => this.startPod(namespace, name), 1000));
  }

  /** activeDeadlineSeconds passed: the kubelet kills the containers and fails the pod. */
  private exceedDeadline(namespace: string, name: string): void {
    this.processes.killPod(podKey(namespace, name));
    const finished = timestamp();
    this.store.update('pods', namespace, name, (p) => {
      p.status.phase = 'Failed';
      p.status.reason = 'DeadlineExceeded';
      p.status.message = 'Pod was active on the node longer than the specified deadline';
      p.status.conditions = (p.status.conditions as { type: string; status: string }[]).map((c) =>
        c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'False', reason: 'PodFailed', lastTransitionTime: finished } : c,
      );
      p.status.containerStatuses = (p.status.containerStatuses as Record<string, unknown>[]).map((s) => ({
        ...s,
        ready: false,
        started: false,
        state: { terminated: { exitCode: 137, reason: 'Error', startedAt: p.status.startTime, finishedAt: finished, containerID: s.containerID } },
      }));
    });
    this.persist();
  }

  /** Deletes a pod: its execs' process groups are killed first, then watchers see DELETED. */
  deletePod(namespace: string, name: string, gracePeriodSeconds = 0): KubeObject {
    const key = podKey(namespace, name);
    const existing = this.store.get('pods', namespace, name);
    if (!existing) throw notFound('', 'pods', name);
    this.processes.killPod(key);
    stopInit(`pod:${key}`);
    const created = this.created.get(key);
    created?.timers.forEach(clearTimeout);
    this.created.delete(key);
    const labPod = this.labPodsByKey.get(key);
    if (labPod) {
      this.deletedLabPods.add(labPod.uid);
      this.labPodsByKey.delete(key);
      this.store.remove('ciliumendpoints', namespace, name);
    }
    const gone = this.store.remove('pods', namespace, name, (p) => {
      p.metadata.deletionTimestamp = timestamp();
      p.metadata.deletionGracePeriodSeconds = gracePeriodSeconds;
    });
    this.persist();
    return gone as KubeObject;
  }

  /** Where an exec into the pod's container runs; errors like the apiserver's when it cannot. */
  execTarget(namespace: string, name: string, container: string): ExecTarget {
    const pod = this.store.get('pods', namespace, name);
    if (!pod) throw notFound('', 'pods', name);
    const containers = (pod.spec.containers as { name: string; image: string }[]) ?? [];
    let chosen = containers.find((c) => c.name === container);
    if (container === '') {
      if (containers.length !== 1) {
        throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${containers.map((c) => c.name).join(' ')}]`);
      }
      chosen = containers[0];
    }
    if (!chosen) throw badRequest(`container ${container} is not valid for pod ${name}`);
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') throw badRequest(`cannot exec into a container in a completed pod; current phase is ${phase}`);
    const node = this.node(pod.spec.nodeName);
    if (!pod.spec.nodeName) throw badRequest(`pod ${name} does not have a host assigned`);
    if (phase !== 'Running' || !node) throw badRequest(`container not found ("${chosen.name}")`);
    const labPod = this.labPodsByKey.get(podKey(namespace, name));
    const netns = labPod?.netns ?? node.netns; // hostNetwork, agent and probe pods share the node's
    const nodeNetnsNames = [...this.labPodsByKey.values()].flatMap((p) => (p.node === node.name && p.netns ? [p.netns] : []));
    const spec = pod.spec as PodConfinement;
    const visibleNetns = labPod?.netns || !mountsHostNetns(spec, chosen.name) ? [] : nodeNetnsNames;
    return {
      podKey: podKey(namespace, name),
      node,
      netns,
      image: chosen.image,
      binDir: this.binDirFor(chosen.image),
      container: chosen.name,
      visibleNetns,
      nodeNetnsNames,
      hostPID: spec.hostPID === true,
      capabilities: capabilitySet(spec.containers?.find((c) => c.name === chosen.name)?.securityContext),
      stashDir: this.stashDir,
    };
  }

  /** Writes pods.json: the pods the API created and every process group execs started. */
  persist(): void {
    const leftovers: LeftoverFile = {
      pods: [...this.created.keys()].flatMap((k) => {
        const [ns, name] = k.split('/');
        const p = this.store.get('pods', ns, name);
        return p ? [p] : [];
      }),
      processes: this.processes.list(),
    };
    const path = join(this.state.dir, 'pods.json');
    writeFileSync(`${path}.tmp`, JSON.stringify(leftovers, null, 2));
    renameSync(`${path}.tmp`, path);
  }

  /** Stops timers and kills every exec'd process (server shutdown). */
  shutdown(): void {
    for (const entry of this.created.values()) entry.timers.forEach(clearTimeout);
    this.processes.killAll();
    this.persist();
  }
}

/** The status of containers that do not run yet, each waiting for the reason given for its image. */
function waitingStatuses(pod: KubeObject, waiting: (image: string) => { reason: string; message?: string }): Record<string, unknown>[] {
  return pod.spec.containers.map((c: { name: string; image: string }) => ({
    name: c.name,
    image: c.image,
    imageID: '',
    ready: false,
    started: false,
    restartCount: 0,
    state: { waiting: waiting(c.image) },
    lastState: {},
  }));
}

/** The parts of a pod spec that confine its commands. */
interface PodConfinement {
  hostPID?: boolean;
  volumes?: { name: string; hostPath?: { path: string } }[];
  containers?: { name: string; volumeMounts?: { name: string; mountPath: string }[]; securityContext?: SecurityContext }[];
}

interface SecurityContext {
  privileged?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
}

/** The capabilities a container runtime gives a container by default (containerd's and CRI-O's list, with NET_RAW). */
export const DEFAULT_CAPABILITIES = ['CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE'];

/** A container's capabilities as setpriv's bounding-set list: the runtime's defaults, plus add, minus drop; `all` when privileged. */
export function capabilitySet(sc: SecurityContext | undefined): string {
  if (sc?.privileged) return 'all';
  const norm = (c: string) => c.toUpperCase().replace(/^CAP_/, '');
  const drop = (sc?.capabilities?.drop ?? []).map(norm);
  const all = drop.includes('ALL');
  const caps = new Set([...(all ? [] : DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c))), ...(sc?.capabilities?.add ?? []).map(norm)]);
  return ['-all', ...[...caps].sort().map((c) => `+${c.toLowerCase()}`)].join(',');
}

/** Whether the container mounts the host's /run/netns (a hostPath volume of it, or of /run or /var/run, at the same place). */
export function mountsHostNetns(spec: PodConfinement, container: string): boolean {
  const hostPaths = new Map((spec.volumes ?? []).flatMap((v) => (v.hostPath ? [[v.name, v.hostPath.path.replace(/\/+$/, '')] as const] : [])));
  const mounts = spec.containers?.find((c) => c.name === container)?.volumeMounts ?? [];
  const netnsDirs = ['/run/netns', '/var/run/netns'];
  return mounts.some((m) => {
    const host = hostPaths.get(m.name);
    if (host === undefined) return false;
    const at = m.mountPath.replace(/\/+$/, '');
    return (netnsDirs.includes(host) && netnsDirs.includes(at)) || (['/run', '/var/run'].includes(host) && ['/run', '/var/run'].includes(at));
  });
}
