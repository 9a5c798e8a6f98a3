import { runLabBench, median, type LabBench, mustSucceed, type LabWithPlugin } from './lab-harness.js';

/**
 * Snappy commands (issue 13, target 3), on the lab without latency, the plugin as krew installs it
 * on linux/amd64 (the single executable) and found by kubectl's plugin discovery:
 * `kubectl datapath endpoints POD -o json` over the kubectl commands a user would type for the
 * same facts, one after another (get pod, get cep, exec the agent's `endpoint get`, exec its
 * `status -o json`). Runs alternate so machine load hits both alike; medians of RUNS.
 * Writes its figures as JSON to BENCH_RESULT_FILE when set.
 */
const RUNS = Number(process.env.BENCH_ENDPOINTS_RUNS ?? 7);
const TARGET = 0.6;

async function byHand(lab: LabWithPlugin, agent: string, endpointId: number): Promise<number> {
  const inAgent = (argv: string[]) => ['exec', '-n', 'kube-system', agent, '-c', 'cilium-agent', '--', ...argv];
  let ms = 0;
  for (const args of [
    ['get', 'pod', 'same', '-o', 'json'],
    ['get', 'cep', 'same', '-o', 'json'],
    inAgent(['cilium-dbg', 'endpoint', 'get', String(endpointId), '-o', 'json']),
    inAgent(['cilium-dbg', 'status', '-o', 'json']),
  ]) {
    ms += mustSucceed(await lab.kubectl(args), `kubectl ${args.join(' ')}`).ms;
  }
  return ms / 1000;
}

export interface EndpointsResult {
  ratio: number;
  pluginS: number;
  byHandS: number;
}

async function measure(bench: LabBench): Promise<EndpointsResult> {
  const lab = await bench.lab({}, 'single-executable');
  const pod = lab.state.pods.find((p) => p.name === 'same')!;
  const agent = lab.state.pods.find((p) => p.namespace === 'kube-system' && p.node === pod.node)!.name;
  const plugin = () => lab.kubectl(['datapath', 'endpoints', 'same', '-o', 'json']);
  // Warm-up, unmeasured: kubectl's discovery cache, the file cache, the lab's first execs.
  mustSucceed(await plugin(), 'kubectl datapath endpoints');
  await byHand(lab, agent, pod.endpointId!);
  const pluginS: number[] = [];
  const byHandS: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    pluginS.push(mustSucceed(await plugin(), 'kubectl datapath endpoints').ms / 1000);
    byHandS.push(await byHand(lab, agent, pod.endpointId!));
  }
  const result = { pluginS: median(pluginS), byHandS: median(byHandS), ratio: median(pluginS) / median(byHandS) };
  console.log(`endpoints benchmark (lab without latency; the single executable as krew installs it, through kubectl's plugin discovery; median of ${RUNS} alternating runs)`);
  console.log(`  kubectl get pod, get cep, exec endpoint get, exec status -o json, one after another: ${result.byHandS.toFixed(2)} s`);
  console.log(`  kubectl datapath endpoints same -o json: ${result.pluginS.toFixed(2)} s, ratio ${result.ratio.toFixed(2)} (target <= ${TARGET}) ${result.ratio <= TARGET ? 'OK' : 'MISSED'}`);
  return result;
}

process.exitCode = await runLabBench('endpoints benchmark', measure);
