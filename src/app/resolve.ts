/**
 * Resolution of a pod into what a trace needs: node and IPs (API), endpoint id and identity
 * (CiliumEndpoint), the agent of its node and that agent's CLI name, and from the agent the
 * host-side lxc, its ifindex and both MACs (`endpoint get`) and the node's routing mode
 * (`status`). Agent facts are looked up once per node and shared by every pod on it.
 */
import { DatapathError, EXIT, NotFoundError } from '../core/errors.js';
import type { EndpointInfo } from '../core/model/endpoint.js';
import type { ReportEndpoint } from '../core/model/report.js';
import type { AgentCli, AgentInfo, NodeRouting, ResolvedEndpoint } from '../core/model/resolved-endpoint.js';
import type { CiliumStatus } from '../core/model/status.js';
import { ciliumEndpointsFromObject, parseEndpointGetJson } from '../core/parse/cilium-endpoint.js';
import { parseCiliumStatusJson, parseCiliumStatusText } from '../core/parse/cilium-status.js';
import { versionOfImage } from '../core/parse/image-reference.js';
import { AGENT_CONTAINER, type ExecPort, type ExecResult, type KubePort, type PodInfo, type PodRef } from './ports.js';

export type { AgentCli, AgentInfo, NodeRouting, ResolvedEndpoint };

/** PodResolution: what a trace gets for one pod: the pod always, agent and endpoint when found, problems otherwise. */
export interface PodResolution {
  pod: PodInfo;
  endpoint?: EndpointInfo;
  agent?: { pod: PodRef; container: string; cli: AgentCli };
  /** Why the agent or the endpoint is missing, one line each. */
  problems: string[];
}

interface Lookup {
  pod: PodInfo;
  agent?: AgentInfo;
  endpoint?: { info: EndpointInfo; source: ResolvedEndpoint['endpointSource'] };
  problem?: DatapathError;
}

/** ResolverOptions: cancellation for the agent execs. */
export interface ResolverOptions {
  signal?: AbortSignal;
}

const CLIENT_VERSION = /^Client:\s+v?(\d+\.\d+\.\d+\S*)/m;

/** An agent pod (and its node) and the CLI its image's version suggests (`cilium-dbg` since 1.15), before any exec. */
type AgentPlace = Pick<AgentInfo, 'node' | 'namespace' | 'name' | 'container' | 'cli'>;

/** cliOfImage: `cilium` for images tagged before 1.15, `cilium-dbg` otherwise (also when the tag says no version). */
function cliOfImage(image: string | undefined): AgentCli {
  const m = /^(\d+)\.(\d+)\./.exec((image && versionOfImage(image)) ?? '');
  return m && (Number(m[1]) < 1 || (Number(m[1]) === 1 && Number(m[2]) < 15)) ? 'cilium' : 'cilium-dbg';
}

/** reportEndpoint: the report's view of a resolved endpoint (schemaVersion 1 fields only). */
export function reportEndpoint(r: ResolvedEndpoint): ReportEndpoint {
  return { pod: r.pod, node: r.node, id: r.id, identity: r.identity, ips: r.ips, interface: r.interface, ifindex: r.ifindex, mac: r.mac ?? null, hostMac: r.hostMac ?? null };
}

function routingOf(status: CiliumStatus | undefined, source: string): NodeRouting {
  if (status === undefined) return { hostRouting: 'unknown', network: 'unknown', source };
  const routing: NodeRouting = { hostRouting: status.hostRouting ?? 'unknown', network: status.routingNetwork ?? 'unknown', source };
  if (status.tunnelProtocol !== undefined) routing.tunnelProtocol = status.tunnelProtocol;
  if (status.kubeProxyReplacement !== undefined) routing.kubeProxyReplacement = status.kubeProxyReplacement.mode;
  return routing;
}

function firstLine(text: string): string {
  return text.trim().split('\n', 1)[0] ?? '';
}

/**
 * EndpointResolver resolves pods to endpoints; it keeps one AgentInfo per node (found, CLI
 * detected, status read once), so resolving several pods of a node costs one agent lookup.
 */
export class EndpointResolver {
  private readonly agents = new Map<string, Promise<AgentInfo>>();
  private readonly places = new Map<string, Promise<AgentPlace>>();
  /** The CLI that answered in a node's agent, once one did. */
  private readonly clis = new Map<string, AgentCli>();

  constructor(
    private readonly kube: KubePort,
    private readonly exec: ExecPort,
    private readonly opts: ResolverOptions = {},
  ) {}

  /** agentOn: the agent of a node, its CLI name and routing mode (cached per node, failures too). */
  agentOn(node: string): Promise<AgentInfo> {
    let agent = this.agents.get(node);
    if (agent === undefined) {
      agent = this.lookUpAgent(node);
      this.agents.set(node, agent);
    }
    return agent;
  }

  /** placeOn: the agent pod of a node and the CLI its image suggests (cached per node). */
  private placeOn(node: string): Promise<AgentPlace> {
    let place = this.places.get(node);
    if (place === undefined) {
      place = this.kube.findAgentPod(node).then((pod) => ({
        node,
        namespace: pod.namespace,
        name: pod.name,
        container: AGENT_CONTAINER,
        cli: cliOfImage(pod.containers.find((c) => c.name === AGENT_CONTAINER)?.image),
      }));
      this.places.set(node, place);
    }
    return place;
  }

  /** runInAgent runs a short agent command and fails with one line when it could not run at all. */
  async runInAgent(agent: Pick<AgentInfo, 'namespace' | 'name' | 'container'>, argv: string[]): Promise<ExecResult> {
    const r = await this.exec.exec({ pod: { namespace: agent.namespace, name: agent.name }, container: agent.container, argv, collect: true, signal: this.opts.signal });
    if (r.canceled) throw new DatapathError(`canceled: ${argv.join(' ')} in ${agent.namespace}/${agent.name}`, EXIT.interrupted);
    if (r.failure !== undefined) throw r.failure;
    if (r.error !== undefined && !r.commandNotFound) throw new DatapathError(`${argv.join(' ')} in ${agent.namespace}/${agent.name}: ${r.error}`, EXIT.error);
    return r;
  }

  private async lookUpAgent(node: string): Promise<AgentInfo> {
    const place = await this.placeOn(node);
    const where = { namespace: place.namespace, name: place.name, container: place.container };
    // The status command doubles as the CLI probe: a missing binary fails with 127 / "executable
    // file not found". The image's version is only a first guess (custom images, tags like latest).
    let cli = place.cli;
    let json = await this.runInAgent(where, [cli, 'status', '-o', 'json']);
    if (json.commandNotFound) {
      cli = otherCli(cli);
      json = await this.runInAgent(where, [cli, 'status', '-o', 'json']);
      if (json.commandNotFound) throw noCli(place);
    }
    const agent: AgentInfo = { node, ...where, cli, routing: routingOf(undefined, 'unknown') };
    const parsedJson = json.stdout.trim() === '' ? undefined : parseCiliumStatusJson(json.stdout);
    if (parsedJson?.status) {
      agent.status = parsedJson.status;
      agent.routing = routingOf(parsedJson.status, `${cli} status -o json`);
    } else {
      // Agents too old for `-o json`, or a JSON we do not understand: the text layout says the same.
      const text = await this.runInAgent(where, [cli, 'status']);
      const parsed = parseCiliumStatusText(text.stdout.split('\n'));
      if (parsed.status) {
        agent.status = parsed.status;
        agent.routing = routingOf(parsed.status, `${cli} status`);
      } else {
        const why = parsedJson?.error ?? (firstLine(json.stderr) || `exit ${json.exitCode}`);
        agent.routing = routingOf(undefined, `unknown: ${cli} status failed (${why})`);
      }
    }
    agent.version = agent.status?.version ?? (await this.versionFromCli(where, cli));
    return agent;
  }

  private async versionFromCli(where: Pick<AgentInfo, 'namespace' | 'name' | 'container'>, cli: AgentCli): Promise<string | undefined> {
    const r = await this.runInAgent(where, [cli, 'version']);
    return r.exitCode === 0 ? CLIENT_VERSION.exec(r.stdout)?.[1] : undefined;
  }

  /** resolve: a pod's endpoint, from the API and its node's agent; fails when the pod has no endpoint or its agent cannot be used. */
  async resolve(ref: PodRef): Promise<ResolvedEndpoint> {
    const found = await this.lookUp(ref);
    if (found.problem !== undefined) throw found.problem;
    const agent = found.agent as AgentInfo;
    const base = this.baseEndpoint(found.pod, agent);
    return found.endpoint === undefined ? base : withEndpoint(base, found.endpoint.info, found.endpoint.source);
  }

  /**
   * resolvePod: the lookup for a trace, which goes on with what it has: the pod always, the agent
   * and endpoint when found, and a one-line problem for each part that was not. A trace needs the
   * agent's CLI, not its status (routing and version are for `endpoints` and `doctor`): a pod with
   * a CiliumEndpoint costs one agent exec, `endpoint get` with the CLI the image suggests (the
   * other when the image lacks it), and the CLI that answered is the agent's.
   */
  async resolvePod(ref: PodRef): Promise<PodResolution> {
    const pod = await this.podOf(ref);
    const key = `${pod.namespace}/${pod.name}`;
    let cep: unknown;
    if (!pod.hostNetwork) {
      const [place, got] = await Promise.all([this.placeOn(pod.node).then((a) => a, (e: unknown) => asDatapathError(e)), this.kube.getCiliumEndpoint(ref)]);
      cep = got;
      const fromCep = cep === undefined ? undefined : ciliumEndpointsFromObject(cep).endpoints[0];
      if (place instanceof DatapathError) return { pod, problems: [place.message] };
      if (fromCep !== undefined && fromCep.id !== null) {
        let asked: { cli: AgentCli; endpoint: { value: EndpointInfo } | { error: unknown } };
        try {
          asked = await this.endpointGetByCli(place, fromCep.id, key);
        } catch (e) {
          return { pod, problems: [asDatapathError(e).message] };
        }
        const agent = { pod: { namespace: place.namespace, name: place.name }, container: place.container, cli: asked.cli };
        if ('error' in asked.endpoint) return { pod, agent, problems: [asDatapathError(asked.endpoint.error).message] };
        const detail = asked.endpoint.value;
        return { pod, agent, endpoint: { ...detail, identity: detail.identity ?? fromCep.identity }, problems: [] };
      }
    }
    // A host-network pod, or no CiliumEndpoint: the agent's status says which CLI it has, and its
    // endpoint list which endpoint is the pod's.
    const found = await this.lookUpIn(pod, ref, cep);
    const out: PodResolution = { pod: found.pod, problems: found.problem === undefined ? [] : [found.problem.message] };
    if (found.agent !== undefined) out.agent = { pod: { namespace: found.agent.namespace, name: found.agent.name }, container: found.agent.container, cli: found.agent.cli };
    if (found.endpoint !== undefined) out.endpoint = found.endpoint.info;
    return out;
  }

  /**
   * endpointGetByCli runs `endpoint get ID` with the CLI that answered on this node before, or the
   * one the agent image suggests, and with the other when the image lacks it; throws when the agent
   * cannot be asked (exec failed, neither CLI), and returns the endpoint's own failure as a value.
   */
  private async endpointGetByCli(place: AgentPlace, id: number, key: string): Promise<{ cli: AgentCli; endpoint: { value: EndpointInfo } | { error: unknown } }> {
    let cli = this.clis.get(place.node) ?? place.cli;
    let r = await this.runInAgent(place, endpointGetArgv(cli, id));
    if (r.commandNotFound) {
      cli = otherCli(cli);
      r = await this.runInAgent(place, endpointGetArgv(cli, id));
      if (r.commandNotFound) throw noCli(place);
    }
    this.clis.set(place.node, cli);
    try {
      return { cli, endpoint: { value: this.endpointFrom(r, { ...place, cli }, id, key) } };
    } catch (error) {
      return { cli, endpoint: { error } };
    }
  }

  /** The pod, when it can have an endpoint: it exists (errors thrown), has not ended and is on a node. */
  private async podOf(ref: PodRef): Promise<PodInfo> {
    const pod = await this.kube.getPod(ref);
    const key = `${pod.namespace}/${pod.name}`;
    if (pod.phase === 'Succeeded' || pod.phase === 'Failed') throw new NotFoundError(`pod ${key} has ended (${pod.phase}): it has no network endpoint any more`);
    if (pod.node === '') throw new DatapathError(`pod ${key} is not scheduled on a node yet (${pod.phase})`, EXIT.error);
    return pod;
  }

  /** The pod (errors thrown: nothing works without it), then its agent and endpoint (errors kept as `problem`). */
  private async lookUp(ref: PodRef): Promise<Lookup> {
    return this.lookUpIn(await this.podOf(ref), ref);
  }

  /** lookUp for a pod already read (and its CiliumEndpoint, when read too). */
  private async lookUpIn(pod: PodInfo, ref: PodRef, knownCep?: unknown): Promise<Lookup> {
    const key = `${pod.namespace}/${pod.name}`;
    const agentLookup = this.agentOn(pod.node).then((a) => a, (e: unknown) => asDatapathError(e));
    const [place, cep] = await Promise.all([
      this.placeOn(pod.node).then((a) => a, (e: unknown) => asDatapathError(e)),
      pod.hostNetwork ? undefined : knownCep !== undefined ? knownCep : this.kube.getCiliumEndpoint(ref),
    ]);
    const fromCep = cep === undefined ? undefined : ciliumEndpointsFromObject(cep).endpoints[0];
    const id = fromCep?.id ?? null;
    // The endpoint is asked for while the agent's status is read, with the CLI the image suggests;
    // asked again only when the status found the other CLI.
    const early = id === null || place instanceof DatapathError ? undefined : settled(this.endpointGet(place, id, key));
    const agent = await agentLookup;
    if (agent instanceof DatapathError) return { pod, problem: agent };
    // A host-network pod is the node's host endpoint, not one of its own.
    if (pod.hostNetwork) return { pod, agent };
    try {
      if (fromCep !== undefined && id !== null) {
        const got = early !== undefined && !(place instanceof DatapathError) && place.cli === agent.cli ? await early : await settled(this.endpointGet(agent, id, key));
        if ('error' in got) throw got.error;
        const detail = got.value;
        return { pod, agent, endpoint: { info: { ...detail, identity: detail.identity ?? fromCep.identity }, source: 'cilium-endpoint' } };
      }
      // No CiliumEndpoint (the CRD may be disabled, or the agent has not written it yet): ask the agent itself.
      const listed = await this.endpointFromList(agent, pod);
      if (listed !== undefined) return { pod, agent, endpoint: { info: listed, source: 'agent-endpoint-list' } };
      const problem = new NotFoundError(
        `pod ${key} has no CiliumEndpoint, and the agent ${agent.namespace}/${agent.name} on node ${pod.node} lists no endpoint for it: is Cilium managing it? (pods started before Cilium keep an unmanaged network until restarted)`,
      );
      return { pod, agent, problem };
    } catch (e) {
      return { pod, agent, problem: asDatapathError(e) };
    }
  }

  private baseEndpoint(pod: PodInfo, agent: AgentInfo): ResolvedEndpoint {
    return {
      pod: `${pod.namespace}/${pod.name}`,
      node: pod.node,
      id: null,
      identity: null,
      ips: pod.ips,
      interface: null,
      ifindex: null,
      mac: null,
      hostMac: null,
      namespace: pod.namespace,
      name: pod.name,
      hostNetwork: pod.hostNetwork,
      containers: pod.containers.map((c) => c.name),
      agent,
      labels: [],
      endpointSource: 'host-network',
    };
  }

  private async endpointGet(agent: AgentPlace, id: number, key: string): Promise<EndpointInfo> {
    return this.endpointFrom(await this.runInAgent(agent, endpointGetArgv(agent.cli, id)), agent, id, key);
  }

  /** The endpoint in the output of `endpoint get ID`, or why not. */
  private endpointFrom(r: ExecResult, agent: AgentPlace, id: number, key: string): EndpointInfo {
    if (r.exitCode !== 0) {
      throw new NotFoundError(
        `the CiliumEndpoint of pod ${key} says endpoint ${id}, but ${agent.cli} endpoint get ${id} in ${agent.namespace}/${agent.name} failed: ${firstLine(r.stderr) || `exit ${r.exitCode}`}`,
      );
    }
    const parsed = parseEndpointGetJson(r.stdout);
    const found = parsed.endpoints.find((e) => e.id === id);
    if (found === undefined) throw new DatapathError(`${agent.cli} endpoint get ${id} in ${agent.namespace}/${agent.name}: ${parsed.error ?? `no endpoint ${id} in its output`}`, EXIT.error);
    return found;
  }

  private async endpointFromList(agent: AgentInfo, pod: PodInfo): Promise<EndpointInfo | undefined> {
    const r = await this.runInAgent(agent, [agent.cli, 'endpoint', 'list', '-o', 'json']);
    if (r.exitCode !== 0) return undefined;
    const { endpoints } = parseEndpointGetJson(r.stdout);
    return (
      endpoints.find((e) => e.pod?.namespace === pod.namespace && e.pod.name === pod.name) ??
      endpoints.find((e) => e.ips.some((ip) => pod.ips.includes(ip)))
    );
  }
}

function otherCli(cli: AgentCli): AgentCli {
  return cli === 'cilium' ? 'cilium-dbg' : 'cilium';
}

function noCli(place: Pick<AgentPlace, 'namespace' | 'name'>): NotFoundError {
  return new NotFoundError(`neither cilium-dbg nor cilium exists in ${place.namespace}/${place.name} (container ${AGENT_CONTAINER}): is it a Cilium agent?`);
}

function endpointGetArgv(cli: AgentCli, id: number): string[] {
  return [cli, 'endpoint', 'get', String(id), '-o', 'json'];
}

/** settled: a promise's outcome as a value, so it can wait unobserved without an unhandled rejection. */
function settled<T>(p: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  return p.then((value) => ({ value }), (error: unknown) => ({ error }));
}

function asDatapathError(e: unknown): DatapathError {
  if (e instanceof DatapathError) return e;
  throw e;
}

function withEndpoint(base: ResolvedEndpoint, e: EndpointInfo, source: ResolvedEndpoint['endpointSource']): ResolvedEndpoint {
  const out: ResolvedEndpoint = {
    ...base,
    id: e.id,
    identity: e.identity,
    ips: base.ips.length > 0 ? base.ips : e.ips,
    interface: e.interface ?? null,
    ifindex: e.ifindex ?? null,
    mac: e.mac ?? null,
    hostMac: e.hostMac ?? null,
    labels: e.labels,
    endpointSource: source,
  };
  if (e.state !== undefined) out.state = e.state;
  if (e.monitorAggregation !== undefined) out.monitorAggregation = e.monitorAggregation;
  if (e.datapathDebug !== undefined) out.datapathDebug = e.datapathDebug;
  return out;
}

/** resolveEndpoint: one pod, with a resolver of its own (use an EndpointResolver to share agent lookups). */
export function resolveEndpoint(kube: KubePort, exec: ExecPort, ref: PodRef, opts: ResolverOptions = {}): Promise<ResolvedEndpoint> {
  return new EndpointResolver(kube, exec, opts).resolve(ref);
}

/** resolvePod: resolveEndpoint in the trace's terms (never fails for a missing agent or endpoint, says why). */
export function resolvePod(kube: KubePort, exec: ExecPort, ref: PodRef, opts: ResolverOptions = {}): Promise<PodResolution> {
  return new EndpointResolver(kube, exec, opts).resolvePod(ref);
}
