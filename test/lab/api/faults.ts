/**
 * Faults the API server plays on purpose (`npm run lab -- fault KIND`, test/lab/faults.ts), each
 * the way a real cluster fails. The fault command appends to `<lab>/faults.json` and signals the
 * server (SIGUSR2); the server also re-reads the file when it changed at each request. A fault
 * acts once when it is first read (exec-cut, agent-gone, pod-deleted, node-gone) and/or while its
 * window [from, until) lasts (api-5xx, api-slow, probe-pending, tool-missing, node-gone: for good).
 *
 * - exec-cut: every open exec stream is dropped (TCP closed without a status, as when the API
 *   server restarts); the commands go on running in their containers, as they do on a node (the
 *   kubelet does not kill an exec's process when its stream ends, kubernetes/kubernetes#89031).
 * - agent-gone: the node's agent pod is deleted (its processes killed, exec to it 404); after the
 *   window a new agent pod, under a new name and uid, takes its place (state.json gets it).
 * - api-5xx: every request is answered 503 ServiceUnavailable or 500 InternalError (alternately).
 * - api-slow: every answer is delayed by delayMs.
 * - probe-pending: pods created through the API stay Pending, their containers waiting with
 *   ErrImagePull, then ImagePullBackOff (the kubelet's back-off), until the window ends.
 * - tool-missing: the named commands are taken out of the images that have them (tcpdump, nc,
 *   pwru from the probe pods' images; cilium-dbg and/or cilium from the agent's), put back after.
 * - pod-deleted: the named pod is deleted (its execs killed) and its lxc veth removed, as the CNI
 *   does on deletion (the pod's eth0 goes with it).
 * - node-gone: every process of the node and its pods is killed, its underlay link deleted, the
 *   Node turns NotReady, exec to its pods fails as the API server's dial to a dead kubelet does.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import type { LabPod, LabState } from '../state.js';
import type { LabCluster, ExecTarget } from './cluster.js';
import { imageSlug } from './images.js';
import { stopInit } from './node-init.js';
import { isAgentPod, labPods, nameSuffix, type KubeObject } from './objects.js';

export const FAULT_KINDS = ['exec-cut', 'agent-gone', 'api-5xx', 'api-slow', 'probe-pending', 'tool-missing', 'pod-deleted', 'node-gone'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Fault {
  id: string;
  kind: FaultKind;
  /** bpf1, bpf2: the node it acts on (agent-gone, node-gone, exec-cut when given). */
  node?: string;
  /** pod-deleted: namespace/name of the pod. */
  pod?: string;
  /** tool-missing: the commands taken out. */
  tools?: string[];
  /** api-slow: the delay of every answer. */
  delayMs?: number;
  /** The window, in ms since the epoch. */
  from: number;
  until: number;
}

export interface FaultFile {
  faults: Fault[];
}

export const FAULTS_FILE = 'faults.json';
/** The ids of the faults the server has acted on. */
export const FAULTS_ACTED_FILE = 'faults-acted.json';
/** The label every probe pod of the plugin carries: tool-missing takes probe tools out of their images. */
const PROBE_LABEL = 'app.kubernetes.io/managed-by';
const PROBE_TOOLS = new Set(['tcpdump', 'nc', 'pwru']);
const HIDDEN = '.fault-hidden-';
/** Logged for each pod whose containers' files a fault removed (test/lab/leftovers.ts reads it). */
export const CONTAINER_FILES_GONE = 'container files gone:';
/** Logged when a node goes: what stays in its netns is beyond reach, as on a dead node (leftovers.ts skips it). */
export const NODE_GONE = 'node gone:';

/** Sessions dropped by exec-cut: their commands must outlive them (exec-session.ts reads this). */
const cutSessions = new WeakSet<WebSocket>();
export function cutByFault(ws: WebSocket): boolean {
  return cutSessions.has(ws);
}

function statusBody(code: number, reason: string, message: string): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

export class FaultHook {
  private faults: Fault[] = [];
  private mtime = 0;
  private readonly acted = new Set<string>();
  private readonly sessions = new Map<WebSocket, string>();
  private answered = 0;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly cluster: LabCluster,
    private readonly statePath: string,
    private readonly log: (line: string) => void,
  ) {
    cluster.imagePullBlocked = (pod) => this.active('probe-pending').length > 0 && pod.metadata.labels?.[PROBE_LABEL] !== undefined;
  }

  private get file(): string {
    return join(this.cluster.labDir, FAULTS_FILE);
  }

  /** Re-reads faults.json when it changed; acts on the faults not acted on yet. */
  reload(): void {
    let mtime: number;
    try {
      mtime = statSync(this.file).mtimeMs;
    } catch {
      return;
    }
    if (mtime === this.mtime) return;
    this.mtime = mtime;
    try {
      this.faults = (JSON.parse(readFileSync(this.file, 'utf8')) as FaultFile).faults;
    } catch (e) {
      this.log(`fault: ${FAULTS_FILE} unreadable: ${(e as Error).message}`);
      return;
    }
    for (const f of this.faults) {
      if (this.acted.has(f.id)) continue;
      this.acted.add(f.id);
      this.log(`fault ${f.id}: ${f.kind}${f.node ? ` on ${f.node}` : ''}${f.pod ? ` pod ${f.pod}` : ''} until +${f.until - Date.now()} ms`);
      this.act(f);
    }
    // The fault command waits for this: the fault has acted when it returns.
    const acted = join(this.cluster.labDir, FAULTS_ACTED_FILE);
    writeFileSync(`${acted}.tmp`, `${JSON.stringify([...this.acted])}\n`);
    renameSync(`${acted}.tmp`, acted);
  }

  private active(kind: FaultKind, now = Date.now()): Fault[] {
    return this.faults.filter((f) => f.kind === kind && f.from <= now && now < f.until);
  }

  private act(f: Fault): void {
    const later = (ms: number, fn: () => void) => this.timers.push(setTimeout(fn, Math.max(0, ms)).unref() as NodeJS.Timeout);
    switch (f.kind) {
      case 'exec-cut':
        this.cut((node) => f.node === undefined || node === f.node);
        break;
      case 'agent-gone': {
        const agent = this.agentOf(f.node);
        if (agent) this.deleted(agent.namespace, agent.name);
        later(f.until - Date.now(), () => this.agentBack(f.node));
        break;
      }
      case 'tool-missing':
        this.hideTools();
        later(f.until - Date.now(), () => this.hideTools());
        break;
      case 'pod-deleted':
        this.deletePod(f.pod);
        break;
      case 'node-gone':
        this.nodeGone(f.node);
        break;
      default:
        break;
    }
  }

  /** A new exec session, to be cut by exec-cut and node-gone. */
  track(ws: WebSocket, target: ExecTarget): void {
    this.sessions.set(ws, target.node.name);
    ws.once('close', () => this.sessions.delete(ws));
  }

  private cut(onNode: (node: string) => boolean): void {
    let n = 0;
    for (const [ws, node] of this.sessions) {
      if (!onNode(node)) continue;
      cutSessions.add(ws);
      ws.terminate();
      n++;
    }
    this.log(`fault: ${n} exec streams cut`);
  }

  /**
   * Before an ordinary request: answers it with a 5xx (true) or delays it. Called first, so a
   * fault hits every request alike, watches and writes included.
   */
  async intercept(_req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    this.reload();
    const failing = this.failure();
    if (failing) {
      res.writeHead(failing.code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
      res.end(failing.body);
      return true;
    }
    await this.delay();
    return false;
  }

  /** Before an upgrade (exec): a 5xx, a delay, or the dial failure of a gone node; true when refused. */
  async interceptUpgrade(req: IncomingMessage, socket: Duplex): Promise<boolean> {
    this.reload();
    this.hideTools();
    const failing = this.failure() ?? this.deadKubelet(req.url ?? '');
    if (!failing) {
      await this.delay();
      return false;
    }
    const reason = failing.code === 503 ? 'Service Unavailable' : 'Internal Server Error';
    socket.end(`HTTP/1.1 ${failing.code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(failing.body)}\r\nConnection: close\r\n\r\n${failing.body}`);
    return true;
  }

  private failure(): { code: number; body: string } | undefined {
    if (this.active('api-5xx').length === 0) return undefined;
    return this.answered++ % 2 === 0
      ? { code: 503, body: statusBody(503, 'ServiceUnavailable', 'the server is currently unable to handle the request') }
      : { code: 500, body: statusBody(500, 'InternalError', 'Internal error occurred: etcdserver: request timed out') };
  }

  private async delay(): Promise<void> {
    const ms = Math.max(0, ...this.active('api-slow').map((f) => f.delayMs ?? 2000));
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  }

  /** An exec to a pod of a gone node: the API server cannot reach its kubelet. */
  private deadKubelet(url: string): { code: number; body: string } | undefined {
    const m = /\/namespaces\/([^/]+)\/pods\/([^/?]+)\/exec/.exec(url);
    if (!m) return undefined;
    const pod = this.cluster.store.get('pods', decodeURIComponent(m[1]), decodeURIComponent(m[2]));
    const gone = this.faults.find((f) => f.kind === 'node-gone' && f.node === pod?.spec.nodeName && f.from <= Date.now());
    if (!gone) return undefined;
    const ip = this.cluster.labState.nodes.find((n) => n.name === gone.node)?.ip ?? '';
    const message = `error dialing backend: dial tcp ${ip}:10250: connect: no route to host`;
    return { code: 500, body: statusBody(500, 'InternalError', message) };
  }

  private agentOf(node: string | undefined): LabPod | undefined {
    return labPods(this.cluster.labState).find((p) => isAgentPod(p) && p.node === node && this.cluster.labPod(p.namespace, p.name) !== undefined);
  }

  /** The DaemonSet's new agent pod for the node: a new name and uid, written to state.json. */
  private agentBack(node: string | undefined): void {
    const state = JSON.parse(readFileSync(this.statePath, 'utf8')) as LabState;
    const template = labPods(state).find((p) => isAgentPod(p) && p.node === node);
    if (!template) return;
    const reborn: LabPod = { ...template, name: `cilium-${nameSuffix()}`, uid: randomUUID() };
    state.pods = [...state.pods.filter((p) => !(isAgentPod(p) && p.node === node)), reborn];
    writeFileSync(`${this.statePath}.tmp`, JSON.stringify(state, null, 2));
    renameSync(`${this.statePath}.tmp`, this.statePath);
    this.cluster.reloadIfChanged();
    this.log(`fault: agent of ${node} back as kube-system/${reborn.name}`);
  }

  /** Takes the tools of the active tool-missing faults out of the images that have them; puts back the others. */
  private hideTools(): void {
    const hidden = new Set(this.active('tool-missing').flatMap((f) => f.tools ?? []));
    const probeImages = new Set(this.cluster.store.list('pods').filter((p) => p.metadata.labels?.[PROBE_LABEL] !== undefined).flatMap((p) => (p.spec.containers as { image: string }[]).map((c) => c.image)));
    const imagesDir = join(this.cluster.labDir, 'images');
    if (!existsSync(imagesDir)) return;
    for (const slug of readdirSync(imagesDir)) {
      const bin = join(imagesDir, slug, 'bin');
      const isProbe = [...probeImages].some((i) => imageSlug(i) === slug);
      for (const name of readdirSync(bin).filter((n) => !n.startsWith(HIDDEN))) {
        const wanted = hidden.has(name) && (PROBE_TOOLS.has(name) ? isProbe : true);
        if (wanted) renameSync(join(bin, name), join(bin, `${HIDDEN}${name}`));
      }
      for (const name of readdirSync(bin).filter((n) => n.startsWith(HIDDEN))) {
        const tool = name.slice(HIDDEN.length);
        if (!hidden.has(tool)) renameSync(join(bin, name), join(bin, tool));
      }
    }
  }

  /**
   * Deletes a pod as the API does. Its containers' files go with it on a node; the lab's
   * containers share this machine's /tmp, so the line says whose pidfiles are no leftovers.
   */
  private deleted(namespace: string, name: string): void {
    this.cluster.deletePod(namespace, name, 0);
    this.log(`fault: ${CONTAINER_FILES_GONE} ${namespace}/${name}`);
  }

  /** The pod is deleted through the API and its veth removed by the "CNI". */
  private deletePod(key: string | undefined): void {
    const [namespace, name] = (key ?? '').split('/');
    const pod = this.cluster.labPod(namespace, name);
    if (!pod) return this.log(`fault: no lab pod ${key}`);
    this.deleted(namespace, name);
    const node = this.cluster.labState.nodes.find((n) => n.name === pod.node);
    if (node && pod.lxc) spawnSync('ip', ['-n', node.netns, 'link', 'del', pod.lxc.name]);
  }

  /** Everything of the node stops: its pods' processes, its init, the lab agent; the underlay goes; the Node is NotReady. */
  private nodeGone(name: string | undefined): void {
    const node = this.cluster.labState.nodes.find((n) => n.name === name);
    if (!node) return;
    this.log(`fault: ${NODE_GONE} ${node.name}`);
    this.cut((n) => n === node.name);
    for (const p of this.cluster.store.list('pods').filter((x) => x.spec.nodeName === node.name)) {
      this.cluster.processes.killPod(`${p.metadata.namespace}/${p.metadata.name}`);
      this.log(`fault: ${CONTAINER_FILES_GONE} ${p.metadata.namespace}/${p.metadata.name}`);
    }
    stopInit(`node:${node.name}`);
    for (const netns of [node.netns, ...this.cluster.labState.pods.filter((p) => p.node === node.name && p.netns).map((p) => p.netns as string)]) {
      const pids = spawnSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' }).stdout.split('\n').filter((p) => /^\d+$/.test(p));
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // gone already
        }
      }
    }
    spawnSync('ip', ['-n', node.netns, 'link', 'del', node.underlayIf]);
    this.cluster.store.update('nodes', undefined, node.name, (n: KubeObject) => {
      n.status.conditions = (n.status.conditions as { type: string }[]).map((c) =>
        c.type === 'Ready' ? { ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' } : c,
      );
    });
  }

  shutdown(): void {
    this.timers.forEach(clearTimeout);
  }
}
