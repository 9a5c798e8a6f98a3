/**
 * EMULATED Cilium agent CLI of the datapath lab: `cilium-dbg` (and `cilium` before 1.15, the
 * same script under LAB_CLI_NAME=cilium). Not the real binary: it answers `endpoint list`,
 * `endpoint get`, `status` and `monitor` for the node in LAB_NODE of the lab in LAB_STATE, from
 * the lab's state and from the events its kernel datapath really produced, in the output formats
 * of the Cilium release the lab emulates.
 */
import { CliError } from './cilium/cli-error.js';
import { endpointGet, endpointList } from './cilium/endpoint.js';
import { serviceList } from './cilium/service.js';
import { parseMonitorArgs, runMonitor } from './cilium/monitor.js';
import { status } from './cilium/status.js';
import { policyGet, policySelectors } from './cilium/policy.js';
import { nodeContext, runEmulated } from './lab-context.js';

const name = process.env.LAB_CLI_NAME || 'cilium-dbg';

/** Splits `-o json` / `--output=json` / `-ojson` out of args. */
function takeOutput(args: string[]): { output?: string; rest: string[] } {
  const rest: string[] = [];
  let output: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-o' || a === '--output') output = args[++i];
    else if (a.startsWith('--output=')) output = a.slice(9);
    else if (/^-o.+/.test(a)) output = a.slice(2);
    else rest.push(a);
  }
  return { output, rest };
}

function unknownFlag(args: string[]): void {
  const flag = args.find((a) => a.startsWith('-'));
  if (flag) throw new CliError(`unknown flag: ${flag.split('=')[0]}`);
}

function main(argv: string[]): number {
  // Global flags of the real CLI that change nothing here.
  const args = argv.filter((a, i) => !(a === '-D' || a === '--debug' || ((a === '-H' || a === '--host') && i >= 0)));
  const [command, ...rest] = args;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(`CLI for interacting with the local Cilium Agent (EMULATED by the datapath lab)\n\nUsage:\n  ${name} [command]\n\nAvailable Commands:\n  endpoint    Manage endpoints\n  monitor     Display BPF program events\n  policy      Manage security policies\n  service     Manage services & loadbalancers\n  status      Display status of daemon\n  version     Print version information\n`);
    return 0;
  }
  if (command === 'version') {
    const ctx = nodeContext();
    process.stdout.write(`Client: ${ctx.state.ciliumVersion} (emulated by the datapath lab) go1.22.10 linux/amd64\nDaemon: ${ctx.state.ciliumVersion} (emulated by the datapath lab) go1.22.10 linux/amd64\n`);
    return 0;
  }
  if (command === 'status') {
    const { output, rest: r } = takeOutput(rest);
    const brief = r.includes('--brief');
    unknownFlag(r.filter((a) => a !== '--brief' && a !== '--verbose' && a !== '--all-addresses' && a !== '--all-controllers'));
    process.stdout.write(status(nodeContext(), output, brief));
    return 0;
  }
  if (command === 'endpoint' || command === 'ep') {
    const [sub, ...subArgs] = rest;
    const { output, rest: r } = takeOutput(subArgs);
    if (sub === 'list' || sub === 'ls') {
      unknownFlag(r);
      process.stdout.write(endpointList(nodeContext(), output));
      return 0;
    }
    if (sub === 'get' || sub === 'inspect' || sub === 'show') {
      unknownFlag(r);
      if (r.length !== 1) throw new CliError('requires endpoint ID');
      process.stdout.write(endpointGet(nodeContext(), r[0], output));
      return 0;
    }
    throw new CliError(sub === undefined ? `"${name} endpoint" requires a subcommand` : `unknown command "${sub}" for "${name} endpoint"`);
  }
  if (command === 'policy') {
    const [sub, ...subArgs] = rest;
    const { output, rest: r } = takeOutput(subArgs);
    if (sub === 'get') {
      unknownFlag(r);
      process.stdout.write(policyGet(nodeContext(), r));
      return 0;
    }
    if (sub === 'selectors') {
      unknownFlag(r);
      process.stdout.write(policySelectors(nodeContext(), output));
      return 0;
    }
    throw new CliError(sub === undefined ? `"${name} policy" requires a subcommand` : `unknown command "${sub}" for "${name} policy"`);
  }
  if (command === 'service' || command === 'svc') {
    const [sub, ...subArgs] = rest;
    if (sub === 'list' || sub === 'ls') {
      unknownFlag(subArgs);
      process.stdout.write(serviceList(nodeContext()));
      return 0;
    }
    throw new CliError(sub === undefined ? `"${name} service" requires a subcommand` : `unknown command "${sub}" for "${name} service"`);
  }
  if (command === 'monitor') {
    const opts = parseMonitorArgs(rest);
    runMonitor(nodeContext(), opts);
    return -1; // keeps running until killed
  }
  throw new CliError(`unknown command "${command}" for "${name}"\nRun '${name} --help' for usage.`);
}

runEmulated(main);
