/**
 * `npm run lab -- up|down|status`: the lab's command line (needs root).
 *   up [--mode legacy|legacy-endpoint-routes|bpf] [--tunnel vxlan|disabled] [--cilium-version X]
 *      [--monitor-aggregation none|low|medium|maximum] [--datapath-debug] [--hubble on|off] [--no-api]
 *      [--latency none|cloud]
 *   down [--all]     remove the lab (--all: every dplab- namespace, whatever made it)
 *   status
 *   fault KIND [--node bpf1|bpf2] [--for MS] [--tool T,...] [--pod NS/NAME] [--delay MS]
 *                    break the running lab on purpose (kinds: test/lab/api/faults.ts)
 * Exit codes: 0 done, 1 failed, 2 usage error, 3 refused (a lab is already up).
 */
import { labDown, labStatus, labUp, type UpOptions } from './kernel/lab.js';
import { LabError } from './kernel/run.js';
import { DEFAULT_LAB_DIR } from './kernel/paths.js';
import { DATAPATH_MODES } from './kernel/topology.js';
import { FAULT_KINDS, injectFault, TOOLS, type FaultRequest } from './faults.js';
import { LATENCY_PROFILES } from './latency.js';

const USAGE = `usage: npm run lab -- up [--mode legacy|legacy-endpoint-routes|bpf] [--tunnel vxlan|disabled] [--cilium-version X] [--monitor-aggregation none|low|medium|maximum] [--datapath-debug] [--hubble on|off] [--no-api] [--latency none|cloud] | down [--all] | status | fault ${FAULT_KINDS.join('|')} [--node bpf1|bpf2] [--for MS] [--tool ${TOOLS.join(',')}] [--pod NS/NAME] [--delay MS]`;

class UsageError extends Error {}

function parseUp(args: string[]): UpOptions {
  const opts: UpOptions = {};
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const value = (): string => {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--mode': {
        const v = value();
        const mode = DATAPATH_MODES.find((m) => m === v);
        if (!mode) throw new UsageError(`--mode must be ${DATAPATH_MODES.join(', ')}, not ${v}`);
        opts.mode = mode;
        break;
      }
      case '--tunnel': {
        const v = value();
        if (v !== 'vxlan' && v !== 'disabled') throw new UsageError(`--tunnel must be vxlan or disabled, not ${v}`);
        opts.tunnel = v;
        break;
      }
      case '--cilium-version': {
        const v = value().replace(/^v/, '');
        if (!/^\d+\.\d+\.\d+/.test(v)) throw new UsageError(`--cilium-version must look like 1.16.5, not ${v}`);
        opts.ciliumVersion = v;
        break;
      }
      case '--monitor-aggregation': {
        const v = value();
        if (!['none', 'low', 'medium', 'maximum'].includes(v)) throw new UsageError(`--monitor-aggregation must be none, low, medium or maximum`);
        opts.monitorAggregation = v as UpOptions['monitorAggregation'];
        break;
      }
      case '--datapath-debug':
        opts.datapathDebug = true;
        break;
      case '--hubble': {
        const v = value();
        if (v !== 'on' && v !== 'off') throw new UsageError(`--hubble must be on or off, not ${v}`);
        opts.hubble = v === 'on';
        break;
      }
      case '--latency': {
        const v = value();
        const profile = LATENCY_PROFILES.find((p) => p === v);
        if (!profile) throw new UsageError(`--latency must be ${LATENCY_PROFILES.join(' or ')}, not ${v}`);
        opts.latency = profile;
        break;
      }
      case '--no-api':
        opts.api = false;
        break;
      default:
        throw new UsageError(`unknown option ${flag}`);
    }
  }
  return opts;
}

function parseFault([kind, ...args]: string[]): FaultRequest {
  const found = FAULT_KINDS.find((k) => k === kind);
  if (!found) throw new UsageError(`fault KIND must be one of ${FAULT_KINDS.join(', ')}${kind ? `, not ${kind}` : ''}`);
  const req: FaultRequest = { kind: found };
  const ms = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} needs a whole number of milliseconds`);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const v = args[++i];
    if (flag === '--node') req.node = v;
    else if (flag === '--for') req.forMs = ms(flag, v);
    else if (flag === '--delay') req.delayMs = ms(flag, v);
    else if (flag === '--pod') req.pod = v;
    else if (flag === '--tool') {
      req.tools = (v ?? '').split(',');
      const bad = req.tools.find((t) => !TOOLS.includes(t));
      if (bad !== undefined) throw new UsageError(`--tool must name ${TOOLS.join(', ')}, not ${bad}`);
    } else throw new UsageError(`unknown option ${flag}`);
  }
  return req;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up': {
      const r = await labUp(parseUp(rest));
      const t = r.timings;
      process.stderr.write(`lab up in ${t.total.toFixed(2)} s (network ${t.network} s, compile wait ${t.compileWait} s, agents ${t.agents} s${t.api !== undefined ? `, API ${t.api} s` : ''})\n`);
      for (const line of labStatus({ dir: r.state.dir }).lines) process.stdout.write(`${line}\n`);
      if (r.apiUnavailable) process.stderr.write(`${r.apiUnavailable}\n`);
      else if (r.state.api) process.stdout.write(`kubeconfig: ${r.state.api.kubeconfig}\n`);
      return 0;
    }
    case 'down': {
      if (rest.some((a) => a !== '--all')) throw new UsageError(`unknown option ${rest.find((a) => a !== '--all')}`);
      const r = await labDown({ all: rest.includes('--all') });
      process.stderr.write(`lab down in ${r.seconds.toFixed(2)} s: ${r.removedNetns.length} namespaces, ${r.killedPids.length} processes removed\n`);
      return 0;
    }
    case 'fault': {
      const fault = await injectFault(DEFAULT_LAB_DIR, parseFault(rest));
      process.stderr.write(`fault ${fault.kind}${fault.node ? ` on ${fault.node}` : ''}${fault.pod ? ` pod ${fault.pod}` : ''}${fault.tools ? ` tools ${fault.tools.join(',')}` : ''} until ${new Date(fault.until).toISOString()}\n`);
      return 0;
    }
    case 'status': {
      const s = labStatus();
      for (const line of s.lines) process.stdout.write(`${line}\n`);
      return s.up ? 0 : 1;
    }
    default:
      throw new UsageError(command === undefined ? 'no command' : `unknown command ${command}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`lab: ${err.message}\n${USAGE}\n`);
      process.exit(2);
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`lab: ${message}\n`);
    process.exit(err instanceof LabError && message.startsWith('a lab is already up') ? 3 : 1);
  },
);
