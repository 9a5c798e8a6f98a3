/**
 * The REST surface: authentication, RBAC, discovery, get/list/watch (JSON or Table), pod
 * create/delete, pod logs, SelfSubjectAccessReviews, and the exec upgrade. Paths, verbs and
 * error bodies follow kube-apiserver so kubectl 1.32 and client-node 1.4 behave as against a
 * real cluster.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { LabCluster } from './cluster.js';
import { coreVersions, group, groupList, openapiV3, resourceList, versionInfo } from './discovery.js';
import { parseExecOptions, pickProtocol, runExec, V4, V5 } from './exec-session.js';
import type { FaultHook } from './faults.js';
import { agentLog, formatLog } from './logs.js';
import { isAgentPod, type KubeObject } from './objects.js';
import {
  allowed,
  allowedPath,
  allowReason,
  anonymousUser,
  authenticate,
  type LabUser,
  type RequestAttributes,
} from './rbac.js';
import { decodeAccessReview } from './protobuf-review.js';
import { isPolicyResource, POLICY_INFO, writePolicyObject, type PolicyResource } from './policies.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import {
  ApiError,
  badRequest,
  expired,
  forbidden,
  forbiddenPath,
  internal,
  methodNotAllowed,
  notFound,
  pathNotFound,
  type Status,
  unauthorized,
  unsupportedMediaType,
} from './status.js';
import type { Resource, StoreEvent } from './store.js';
import { table, wantsTable, type IncludeObject } from './tables.js';

type ServedResource = Resource | 'selfsubjectaccessreviews';

interface ResourceInfo {
  group: string;
  version: string;
  namespaced: boolean;
  kind: string;
  /** Field selectors the resource supports, and how to read them off an object. */
  fields: readonly string[];
  fieldValues: (o: KubeObject) => Record<string, string>;
}

const META_FIELDS = (o: KubeObject): Record<string, string> => ({
  'metadata.name': o.metadata.name,
  'metadata.namespace': o.metadata.namespace ?? '',
});

function policyResourceInfo(resource: PolicyResource): ResourceInfo {
  const { group, version, namespaced, kind } = POLICY_INFO[resource];
  return { group, version, namespaced, kind, fields: ['metadata.name', 'metadata.namespace'], fieldValues: META_FIELDS };
}

const RESOURCES: Record<ServedResource, ResourceInfo> = {
  pods: {
    group: '',
    version: 'v1',
    namespaced: true,
    kind: 'Pod',
    fields: [
      'metadata.name', 'metadata.namespace', 'spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName',
      'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.podIPs', 'status.nominatedNodeName',
    ],
    fieldValues: (o) => ({
      ...META_FIELDS(o),
      'spec.nodeName': o.spec?.nodeName ?? '',
      'spec.restartPolicy': o.spec?.restartPolicy ?? '',
      'spec.schedulerName': o.spec?.schedulerName ?? '',
      'spec.serviceAccountName': o.spec?.serviceAccountName ?? '',
      'spec.hostNetwork': String(o.spec?.hostNetwork === true),
      'status.phase': o.status?.phase ?? '',
      'status.podIP': o.status?.podIP ?? '',
      'status.podIPs': o.status?.podIP ?? '',
      'status.nominatedNodeName': o.status?.nominatedNodeName ?? '',
    }),
  },
  nodes: {
    group: '',
    version: 'v1',
    namespaced: false,
    kind: 'Node',
    fields: ['metadata.name', 'spec.unschedulable'],
    fieldValues: (o) => ({ ...META_FIELDS(o), 'spec.unschedulable': String(o.spec?.unschedulable === true) }),
  },
  namespaces: {
    group: '',
    version: 'v1',
    namespaced: false,
    kind: 'Namespace',
    fields: ['metadata.name', 'status.phase'],
    fieldValues: (o) => ({ ...META_FIELDS(o), 'status.phase': o.status?.phase ?? '' }),
  },
  events: {
    group: '',
    version: 'v1',
    namespaced: true,
    kind: 'Event',
    fields: [
      'metadata.name', 'metadata.namespace', 'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name',
      'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type',
    ],
    fieldValues: (o) => ({
      ...META_FIELDS(o),
      'involvedObject.kind': o.involvedObject?.kind ?? '',
      'involvedObject.namespace': o.involvedObject?.namespace ?? '',
      'involvedObject.name': o.involvedObject?.name ?? '',
      'involvedObject.uid': o.involvedObject?.uid ?? '',
      'involvedObject.apiVersion': o.involvedObject?.apiVersion ?? '',
      'involvedObject.fieldPath': o.involvedObject?.fieldPath ?? '',
      reason: o.reason ?? '',
      reportingComponent: o.reportingComponent ?? '',
      source: o.source?.component ?? '',
      type: o.type ?? '',
    }),
  },
  ciliumendpoints: {
    group: 'cilium.io',
    version: 'v2',
    namespaced: true,
    kind: 'CiliumEndpoint',
    fields: ['metadata.name', 'metadata.namespace'],
    fieldValues: META_FIELDS,
  },
  ciliumnetworkpolicies: policyResourceInfo('ciliumnetworkpolicies'),
  ciliumclusterwidenetworkpolicies: policyResourceInfo('ciliumclusterwidenetworkpolicies'),
  networkpolicies: policyResourceInfo('networkpolicies'),
  services: {
    group: '',
    version: 'v1',
    namespaced: true,
    kind: 'Service',
    fields: ['metadata.name', 'metadata.namespace'],
    fieldValues: META_FIELDS,
  },
  endpointslices: {
    group: 'discovery.k8s.io',
    version: 'v1',
    namespaced: true,
    kind: 'EndpointSlice',
    fields: ['metadata.name', 'metadata.namespace'],
    fieldValues: META_FIELDS,
  },
  selfsubjectaccessreviews: {
    group: 'authorization.k8s.io',
    version: 'v1',
    namespaced: false,
    kind: 'SelfSubjectAccessReview',
    fields: [],
    fieldValues: META_FIELDS,
  },
};

/** A resource path, decomposed like the apiserver's RequestInfoFactory. */
interface ResourcePath {
  resource: ServedResource;
  info: ResourceInfo;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** Splits /api/v1/... and /apis/<g>/<v>/... into resource, namespace, name and subresource. */
function parseResourcePath(pathname: string): ResourcePath | 'discovery' | undefined {
  const parts = pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
  let groupName: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api') {
    if (parts.length <= 2) return 'discovery';
    [groupName, version, rest] = ['', parts[1], parts.slice(2)];
  } else if (parts[0] === 'apis') {
    if (parts.length <= 3) return 'discovery';
    [groupName, version, rest] = [parts[1], parts[2], parts.slice(3)];
  } else {
    return undefined;
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource, name, subresource, ...extra] = rest;
  const info = RESOURCES[resource as ServedResource];
  if (!info || info.group !== groupName || info.version !== version || extra.length > 0) return undefined;
  if (namespace !== undefined && !info.namespaced) return undefined;
  return { resource: resource as ServedResource, info, namespace, name, subresource };
}

function stripTypeMeta(o: KubeObject): Omit<KubeObject, 'apiVersion' | 'kind'> {
  const { apiVersion: _a, kind: _k, ...rest } = o;
  return rest;
}

const PROTOBUF = 'application/vnd.kubernetes.protobuf';

async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 3 * 1024 * 1024) throw badRequest('request entity too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A JSON request body (undefined when empty); protobuf bodies are refused with 415 like an unknown type. */
async function readBody(req: IncomingMessage): Promise<unknown> {
  const raw = await readRaw(req);
  if ((req.headers['content-type'] ?? '').startsWith(PROTOBUF) && raw.length > 0) throw unsupportedMediaType(PROTOBUF);
  const text = raw.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
}

/** An access review body in JSON or in protobuf (kubectl auth can-i sends protobuf). */
async function readAccessReview(req: IncomingMessage): Promise<unknown> {
  if (!(req.headers['content-type'] ?? '').startsWith(PROTOBUF)) return readBody(req);
  try {
    return decodeAccessReview(await readRaw(req));
  } catch (e) {
    throw badRequest(`unable to decode the protobuf SelfSubjectAccessReview: ${(e as Error).message}`);
  }
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
}

function sendStatus(res: ServerResponse, status: Status): void {
  sendJson(res, status.code, status);
}

/** Answers an upgrade request with a plain HTTP error (the socket never became a WebSocket). */
function rejectUpgrade(socket: Duplex, status: Status): void {
  const body = JSON.stringify(status);
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' }[status.code] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${status.code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The RBAC verb of a non-GET request (apiserver RequestInfoFactory). */
function writeVerb(method: string, name: string | undefined): string {
  switch (method) {
    case 'POST':
      return 'create';
    case 'DELETE':
      return name ? 'delete' : 'deletecollection';
    case 'PUT':
      return 'update';
    default:
      return method.toLowerCase();
  }
}

function includeObject(query: URLSearchParams): IncludeObject {
  const v = query.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

export class ApiHandler {
  private readonly wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => pickProtocol([...offered].join(',')) ?? false });

  constructor(
    private readonly cluster: LabCluster,
    private readonly statePath: string,
    private readonly tokens: Record<'admin' | 'noexec', string>,
    private readonly log: (line: string) => void,
    private readonly faults?: FaultHook,
  ) {}

  private user(req: IncomingMessage): LabUser {
    const found = authenticate(req.headers.authorization, this.tokens);
    if (found === undefined) throw unauthorized();
    return found === 'anonymous' ? anonymousUser : found;
  }

  private authorize(user: LabUser, attrs: RequestAttributes): void {
    if (!allowed(user, attrs)) throw forbidden({ user: user.name, ...attrs });
  }

  /** Entry point for ordinary HTTP requests. */
  handle = (req: IncomingMessage, res: ServerResponse): void => {
    const started = Date.now();
    let who = '-';
    res.on('finish', () => this.log(`${req.method} ${req.url} ${res.statusCode} ${who} ${Date.now() - started}ms`));
    const run = async (): Promise<void> => {
      if (await this.faults?.intercept(req, res)) return;
      const user = this.user(req);
      who = user.name;
      this.cluster.reloadIfChanged();
      await this.cluster.latency.request();
      await this.route(req, res, user);
    };
    run().catch((e: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (e instanceof ApiError) sendStatus(res, e.status);
      else {
        this.log(`internal error on ${req.method} ${req.url}: ${(e as Error).stack ?? String(e)}`);
        sendStatus(res, internal((e as Error).message).status);
      }
    });
  };

  private async route(req: IncomingMessage, res: ServerResponse, user: LabUser): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const parsed = parseResourcePath(path);
    if (parsed === undefined || parsed === 'discovery') {
      if (req.method !== 'GET') throw methodNotAllowed();
      if (!allowedPath(user, 'get', path)) throw forbiddenPath(user.name, 'get', path);
      if (path === '/healthz' || path === '/livez' || path === '/readyz') {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('ok');
        return;
      }
      sendJson(res, 200, this.nonResource(path));
      return;
    }
    const { resource, info, namespace, name, subresource } = parsed;
    const query = url.searchParams;
    const method = req.method ?? 'GET';
    const attrs = (verb: string): RequestAttributes => ({ verb, group: info.group, resource, subresource, namespace, name });

    if (subresource === 'exec') {
      this.authorize(user, attrs('create'));
      throw badRequest('Upgrade request required');
    }
    if (subresource === 'log' && resource === 'pods' && method === 'GET' && namespace && name) {
      this.authorize(user, attrs('get'));
      this.podLog(req, res, namespace, name, query);
      return;
    }
    if (subresource !== undefined) throw pathNotFound();

    if (resource === 'selfsubjectaccessreviews') {
      if (method !== 'POST' || name) throw methodNotAllowed();
      this.authorize(user, attrs('create'));
      sendJson(res, 201, this.accessReview(user, await readAccessReview(req)));
      return;
    }
    if (info.namespaced && namespace === undefined && name !== undefined) throw pathNotFound();

    if (method === 'GET') {
      const watching = query.get('watch') !== null && !/^(0|false)$/i.test(query.get('watch') ?? '');
      const verb = name ? 'get' : watching ? 'watch' : 'list';
      this.authorize(user, attrs(verb));
      if (watching) this.watch(req, res, resource, info, namespace, query);
      else if (name) this.getOne(req, res, resource, info, namespace, name, query);
      else this.list(req, res, resource, info, namespace, query);
      return;
    }
    // Writes: the verb is authorized first, so a denied user gets 403 even where the lab has no handler.
    this.authorize(user, attrs(writeVerb(method, name)));
    if (resource === 'pods' && namespace !== undefined && method === 'POST' && !name) {
      const body = (await readBody(req)) as KubeObject | undefined;
      if (!body || typeof body !== 'object') throw badRequest('the body of the request was empty');
      sendJson(res, 201, this.cluster.createPod(namespace, body));
      return;
    }
    if (resource === 'pods' && namespace !== undefined && method === 'DELETE') {
      const body = (await readBody(req)) as { gracePeriodSeconds?: number } | undefined;
      const grace = Number(query.get('gracePeriodSeconds') ?? body?.gracePeriodSeconds ?? 0);
      if (name) {
        sendJson(res, 200, this.cluster.deletePod(namespace, name, grace));
        return;
      }
      const deleted = this.select(resource, info, namespace, query).map((p) => this.cluster.deletePod(namespace, p.metadata.name, grace));
      const rv = String(this.cluster.store.resourceVersion);
      sendJson(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: rv }, items: deleted.map(stripTypeMeta) });
      return;
    }
    if (isPolicyResource(resource) && (namespace !== undefined || !info.namespaced || method !== 'POST')) {
      const [code, body] = writePolicyObject(this.cluster.store, resource, method, namespace, name, req.headers['content-type'] ?? '', await readBody(req));
      sendJson(res, code, body);
      return;
    }
    throw methodNotAllowed();
  }

  private nonResource(path: string): unknown {
    if (path === '/version') return versionInfo();
    if (path === '/api') return coreVersions();
    if (path.startsWith('/openapi/v3')) return openapiV3(path) ?? (() => { throw pathNotFound(); })();
    if (path === '/apis') return groupList();
    const parts = path.split('/').filter((p) => p !== '');
    const doc =
      parts[0] === 'api' && parts.length === 2
        ? resourceList('', parts[1])
        : parts[0] === 'apis' && parts.length === 2
          ? group(parts[1])
          : parts[0] === 'apis' && parts.length === 3
            ? resourceList(parts[1], parts[2])
            : undefined;
    if (doc === undefined) throw pathNotFound();
    return doc;
  }

  /** Objects matching the namespace, labelSelector and fieldSelector of a request. */
  private select(resource: Resource, info: ResourceInfo, namespace: string | undefined, query: URLSearchParams): KubeObject[] {
    const matches = this.matcher(resource, info, namespace, query);
    return this.cluster.store.list(resource, namespace).filter(matches);
  }

  private matcher(resource: Resource, info: ResourceInfo, namespace: string | undefined, query: URLSearchParams): (o: KubeObject) => boolean {
    const labelSelector = query.get('labelSelector');
    const fieldSelector = query.get('fieldSelector');
    const labels = parseLabelSelector(labelSelector);
    const fields = parseFieldSelector(fieldSelector, info.fields, (o) => info.fieldValues(o as KubeObject), (field) =>
      badRequest(
        `Unable to find "${info.group}/${info.version}, Resource=${resource}" that match label selector "${labelSelector ?? ''}", field selector "${fieldSelector ?? ''}": field label not supported: ${field}`,
      ),
    );
    return (o) => (namespace === undefined || o.metadata.namespace === namespace) && labels(o.metadata.labels) && fields(o);
  }

  private list(req: IncomingMessage, res: ServerResponse, resource: Resource, info: ResourceInfo, namespace: string | undefined, query: URLSearchParams): void {
    const items = this.select(resource, info, namespace, query);
    const rv = String(this.cluster.store.resourceVersion);
    if (wantsTable(req.headers.accept)) {
      sendJson(res, 200, table(resource, items, rv, includeObject(query)));
      return;
    }
    const apiVersion = info.group === '' ? info.version : `${info.group}/${info.version}`;
    // Core lists carry no per-item type meta; custom resources are stored with theirs.
    sendJson(res, 200, { kind: `${info.kind}List`, apiVersion, metadata: { resourceVersion: rv }, items: info.group === '' ? items.map(stripTypeMeta) : items });
  }

  private getOne(req: IncomingMessage, res: ServerResponse, resource: Resource, info: ResourceInfo, namespace: string | undefined, name: string, query: URLSearchParams): void {
    const obj = this.cluster.store.get(resource, info.namespaced ? namespace : undefined, name);
    if (!obj) throw notFound(info.group, resource, name);
    if (wantsTable(req.headers.accept)) sendJson(res, 200, table(resource, [obj], obj.metadata.resourceVersion ?? '', includeObject(query)));
    else sendJson(res, 200, obj);
  }

  /** A watch stream: initial ADDED events (or the history since resourceVersion), then live changes. */
  private watch(req: IncomingMessage, res: ServerResponse, resource: Resource, info: ResourceInfo, namespace: string | undefined, query: URLSearchParams): void {
    const matches = this.matcher(resource, info, namespace, query);
    const asTable = wantsTable(req.headers.accept);
    const include = includeObject(query);
    const store = this.cluster.store;
    const rvParam = query.get('resourceVersion');
    const since = rvParam === null || rvParam === '' || rvParam === '0' ? undefined : Number(rvParam);
    if (since !== undefined && !Number.isInteger(since)) throw badRequest(`resourceVersion: Invalid value: "${rvParam}": must be an integer`);
    const backlog = since === undefined ? undefined : store.eventsSince(since);

    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const write = (type: string, obj: KubeObject): void => {
      const object = asTable ? table(resource, [obj], obj.metadata.resourceVersion ?? '', include) : obj;
      res.write(`${JSON.stringify({ type, object })}\n`);
    };
    if (backlog === 'expired') {
      const status = expired(`too old resource version: ${since} (${store.oldestWatchable})`).status;
      res.end(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
      return;
    }
    const deliver = (event: StoreEvent): void => {
      if (event.resource !== resource) return;
      const now = matches(event.object);
      if (event.type === 'MODIFIED') {
        const before = event.previous ? matches(event.previous) : now;
        if (now && before) write('MODIFIED', event.object);
        else if (now) write('ADDED', event.object);
        else if (before) write('DELETED', event.object);
      } else if (now) {
        write(event.type, event.object);
      }
    };
    if (backlog === undefined) for (const o of store.list(resource, namespace).filter(matches)) write('ADDED', o);
    else backlog.forEach(deliver);

    const unsubscribe = store.subscribe(deliver);
    const timeout = Number(query.get('timeoutSeconds') ?? 1800);
    const timer = setTimeout(() => res.end(), Math.max(1, timeout) * 1000);
    res.on('close', () => {
      unsubscribe();
      clearTimeout(timer);
    });
  }

  private podLog(req: IncomingMessage, res: ServerResponse, namespace: string, name: string, query: URLSearchParams): void {
    const pod = this.cluster.store.get('pods', namespace, name);
    if (!pod) throw notFound('', 'pods', name);
    const containers = (pod.spec.containers as { name: string }[]).map((c) => c.name);
    const container = query.get('container') ?? (containers.length === 1 ? containers[0] : '');
    if (!containers.includes(container)) {
      throw badRequest(
        container === ''
          ? `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`
          : `container ${container} is not valid for pod ${name}`,
      );
    }
    if (pod.status?.phase === 'Pending') throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ContainerCreating`);
    if (query.get('previous') === 'true') throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
    const labPod = this.cluster.labPod(namespace, name);
    const lines = labPod && isAgentPod(labPod) ? agentLog(this.cluster.labState, labPod.node) : [];
    const tail = query.get('tailLines');
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.write(formatLog(lines, { tailLines: tail === null ? undefined : Number(tail), timestamps: query.get('timestamps') === 'true' }));
    if (query.get('follow') !== 'true') {
      res.end();
      return;
    }
    // Following: the stream stays open until the pod goes away or the client hangs up.
    const unsubscribe = this.cluster.store.subscribe((e) => {
      if (e.type === 'DELETED' && e.resource === 'pods' && e.object.metadata.namespace === namespace && e.object.metadata.name === name) res.end();
    });
    res.on('close', unsubscribe);
  }

  /** SelfSubjectAccessReview answered by the same RBAC rules as real requests. */
  private accessReview(user: LabUser, body: unknown): Record<string, unknown> {
    const review = (body ?? {}) as { spec?: { resourceAttributes?: Record<string, string>; nonResourceAttributes?: { path?: string; verb?: string } } };
    const spec = review.spec ?? {};
    let ok: boolean;
    if (spec.resourceAttributes) {
      const a = spec.resourceAttributes;
      ok = allowed(user, {
        verb: a.verb ?? '',
        group: a.group ?? '',
        resource: a.resource ?? '',
        subresource: a.subresource || undefined,
        namespace: a.namespace || undefined,
        name: a.name || undefined,
      });
    } else if (spec.nonResourceAttributes) {
      ok = allowedPath(user, spec.nonResourceAttributes.verb ?? '', spec.nonResourceAttributes.path ?? '');
    } else {
      throw badRequest('SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec: Invalid value: exactly one of nonResourceAttributes or resourceAttributes must be specified');
    }
    return {
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec,
      status: ok ? { allowed: true, reason: allowReason(user) } : { allowed: false },
    };
  }

  /** Entry point for upgrade requests, after the faults the lab plays (test/lab/api/faults.ts). */
  upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (!this.faults) return this.upgradeExec(req, socket, head);
    socket.on('error', () => undefined);
    void this.faults.interceptUpgrade(req, socket).then((refused) => refused || this.upgradeExec(req, socket, head));
  };

  /** WebSocket exec (v5/v4); SPDY and everything else get a 400. */
  private upgradeExec(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const started = Date.now();
    let who = '-';
    const reject = (status: Status): void => {
      this.log(`${req.method} ${req.url} (upgrade ${req.headers.upgrade}) ${status.code} ${who} ${Date.now() - started}ms`);
      rejectUpgrade(socket, status);
    };
    socket.on('error', () => undefined);
    try {
      const user = this.user(req);
      who = user.name;
      this.cluster.reloadIfChanged();
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      const parsed = parseResourcePath(url.pathname);
      if (typeof parsed !== 'object' || parsed.resource !== 'pods' || parsed.subresource !== 'exec' || !parsed.namespace || !parsed.name) {
        throw badRequest('the lab API server upgrades only pods/exec requests');
      }
      const { namespace, name } = parsed;
      this.authorize(user, { verb: 'create', group: '', resource: 'pods', subresource: 'exec', namespace, name });
      const options = parseExecOptions(url.searchParams);
      const target = this.cluster.execTarget(namespace, name, options.container);
      const isWebSocket = req.method === 'GET' && /websocket/i.test(req.headers.upgrade ?? '');
      if (!isWebSocket) throw badRequest(`the lab API server streams exec only over WebSocket (${V5}, ${V4}), not ${req.headers.upgrade}`);
      const protocol = pickProtocol(req.headers['sec-websocket-protocol'] as string | undefined);
      if (!protocol) throw badRequest(`no supported subprotocol: offer ${V5} or ${V4}`);
      const pod = this.cluster.store.get('pods', namespace, name) as KubeObject;
      const hostname = pod.spec.hostNetwork ? target.node.name : name;
      void this.cluster.latency.execSetup().then(() =>
        this.wss.handleUpgrade(req, socket, head, (ws) => {
          this.log(`${req.method} ${req.url} 101 ${who} ${ws.protocol} ${Date.now() - started}ms`);
          this.faults?.track(ws, target);
          runExec(ws, { target, options, processes: this.cluster.processes, statePath: this.statePath, hostname, log: this.log });
        }),
      );
    } catch (e) {
      if (e instanceof ApiError) reject(e.status);
      else {
        this.log(`internal error on upgrade ${req.url}: ${(e as Error).stack ?? String(e)}`);
        reject(internal((e as Error).message).status);
      }
    }
  }
}
