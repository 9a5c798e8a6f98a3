import { killAllPidfilesArgv } from '../probes/probe-command.js';
import { leftoverTraceRules, saveRawArgv } from '../probes/iptables-trace.js';
import type { ExecPort, KubePort, PodInfo } from './ports.js';
import { MANAGED_BY, MANAGED_BY_LABEL, RUN_LABEL } from './probe-pods.js';
import { describeExit } from './run-probes.js';

/** CleanupRequest: what `kubectl datapath cleanup` removes. */
export interface CleanupRequest {
  /** Namespace of the probe pods; undefined: every namespace. */
  probeNamespace?: string;
  agentNamespace: string;
  /** Only what this run left. */
  runId?: string;
}

/** CleanupResult: what was found and removed, and what could not be. */
export interface CleanupResult {
  podsDeleted: string[];
  /** Remote processes killed by their pidfile, as `agent-pod: pidfile`. */
  processesKilled: string[];
  /** TRACE rules deleted, as `agent-pod: rule`. */
  rulesRemoved: string[];
  problems: string[];
}

const AGENT_SELECTOR = 'k8s-app=cilium';
const AGENT_CONTAINER = 'cilium-agent';
const SHORT_MS = 15_000;

/**
 * cleanup removes what interrupted runs left: probe pods (by label; their processes die with
 * them), and in every agent pod, the processes our pidfiles name (monitor, xtables-monitor) and
 * the TRACE rules our comment marks. Probes run by exec into an app pod end by their `timeout`.
 */
export async function cleanup(req: CleanupRequest, kube: KubePort, exec: ExecPort, signal?: AbortSignal): Promise<CleanupResult> {
  const result: CleanupResult = { podsDeleted: [], processesKilled: [], rulesRemoved: [], problems: [] };
  const selector = `${MANAGED_BY_LABEL}=${MANAGED_BY}${req.runId ? `,${RUN_LABEL}=${req.runId}` : ''}`;

  const [pods, agents] = await Promise.all([kube.listPods(req.probeNamespace, { labelSelector: selector }), kube.listPods(req.agentNamespace, { labelSelector: AGENT_SELECTOR })]);
  await Promise.all(
    pods.map(async (p) => {
      try {
        await kube.deletePod(p);
        result.podsDeleted.push(`${p.namespace}/${p.name}`);
      } catch (err) {
        result.problems.push(`probe pod ${p.namespace}/${p.name} could not be deleted: ${(err as Error).message}`);
      }
    }),
  );
  const running = agents.filter((a) => a.phase === 'Running' && a.containers.some((c) => c.name === AGENT_CONTAINER));
  await Promise.all(running.map((agent) => cleanAgent(agent, req.runId, exec, result, signal)));
  return result;
}

async function cleanAgent(agent: PodInfo, runId: string | undefined, exec: ExecPort, result: CleanupResult, signal: AbortSignal | undefined): Promise<void> {
  const where = `${agent.namespace}/${agent.name}`;
  const run = (argv: string[]) =>
    exec.exec({ pod: agent, container: AGENT_CONTAINER, argv, collect: true, signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(SHORT_MS)]) : AbortSignal.timeout(SHORT_MS) });

  const killed = await run(killAllPidfilesArgv(runId));
  if (killed.exitCode === 0) {
    for (const f of killed.stdout.split('\n').filter((l) => l !== '')) result.processesKilled.push(`${where}: ${f}`);
  } else {
    result.problems.push(`${where}: leftover processes could not be looked for: ${describeExit(killed)}`);
  }

  for (const v6 of [false, true]) {
    const saved = await run(saveRawArgv(v6));
    if (saved.exitCode !== 0) {
      // ip6tables may be absent on IPv4-only agents: only a failing IPv4 listing is a problem.
      if (!v6) result.problems.push(`${where}: the raw table could not be listed: ${describeExit(saved)}`);
      continue;
    }
    for (const argv of leftoverTraceRules(saved.stdout, v6, runId)) {
      const r = await run(argv);
      const rule = argv.slice(argv.indexOf('-D') + 1).join(' ');
      if (r.exitCode === 0) result.rulesRemoved.push(`${where}: ${rule}`);
      else result.problems.push(`${where}: TRACE rule ${rule} could not be deleted: ${describeExit(r)}`);
    }
  }
}
