import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { createServer, type AddressInfo } from 'node:net';
import { planTrace, type PlannedProbe, type TraceNode, type TraceTarget } from '../../../src/core/plan.js';
import { netnsLinksArgv, routeGetArgv } from '../../../src/probes/discovery.js';
import { hubbleArgv } from '../../../src/probes/hubble.js';
import { commandFor } from '../../../src/probes/index.js';
import { deleteTraceRulesArgv, insertTraceRulesArgv, leftoverTraceRules } from '../../../src/probes/iptables-trace.js';
import { commandName, killAllPidfilesArgv, killByPidfileArgv, mergeStops, withPidfile, type CommandContext } from '../../../src/probes/probe-command.js';
import { fromNetns, trafficCommand } from '../../../src/probes/traffic.js';
import { readFixture } from '../../helpers/fixtures.js';

const ctx: CommandContext = {
  runId: 'r1',
  lifetimeS: 90,
  maxCapturePackets: 500,
  pwruMaxLines: 1000,
  probePod: (node, role) => ({ namespace: 'kube-system', name: `datapath-r1-${role}-${node}` }),
  agent: (node) => ({ namespace: 'kube-system', name: `cilium-${node}`, container: 'cilium-agent', cli: 'cilium' }),
};

const HOSTS = ['host', '10.0.1.135', 'and', 'host', '10.0.1.180'];
const probe = (p: Partial<PlannedProbe> & Pick<PlannedProbe, 'tool' | 'place'>): PlannedProbe => ({ id: `${p.tool}-x`, point: 'p', node: 'bpf1', filter: [], ...p });
const PIDFILE = (id: string) => `/tmp/kubectl-datapath-r1-${id}.pid`;
/** The pidfile wrapper script (it records PID and start time; what it does is run by a real sh below). */
const WRAPPER = withPidfile('/tmp/p.pid', ['true'])[2];
const WRAP = (id: string) => ['sh', '-c', WRAPPER, PIDFILE(id)];

describe('probe commands', () => {
  it.each([
    {
      name: 'tcpdump in a pod netns from the node: nsenter, streaming pcap, bounded by timeout and -c',
      probe: probe({ tool: 'tcpdump', id: 'tcpdump-pod', place: { kind: 'probe-pod', node: 'bpf1', role: 'capture' }, iface: 'eth0', netns: 'cni-aaa', filter: HOSTS }),
      target: { namespace: 'kube-system', name: 'datapath-r1-capture-bpf1', container: 'probe' },
      argv: [...WRAP('tcpdump-pod'), 'timeout', '90', 'nsenter', '--net=/run/netns/cni-aaa', 'tcpdump', '-i', 'eth0', '-n', '-w', '-', '-U', '--immediate-mode', '-s', '256', '-c', '500', ...HOSTS],
      ready: { kind: 'marker', text: 'listening on' },
      output: 'pcap',
      format: 'pcap',
    },
    {
      name: 'tcpdump on a node device (lxc)',
      probe: probe({ tool: 'tcpdump', id: 'tcpdump-lxc', place: { kind: 'probe-pod', node: 'bpf1', role: 'capture' }, iface: 'lxcda6f5295b4b7', filter: HOSTS }),
      target: { namespace: 'kube-system', name: 'datapath-r1-capture-bpf1', container: 'probe' },
      argv: [...WRAP('tcpdump-lxc'), 'timeout', '90', 'tcpdump', '-i', 'lxcda6f5295b4b7', '-n', '-w', '-', '-U', '--immediate-mode', '-s', '256', '-c', '500', ...HOSTS],
      ready: { kind: 'marker', text: 'listening on' },
      output: 'pcap',
      format: 'pcap',
    },
    {
      name: 'tcpdump by exec into the app pod, in its first container',
      probe: probe({ tool: 'tcpdump', id: 'tcpdump-app', place: { kind: 'app-pod', namespace: 'default', name: 'same', container: 'app' }, iface: 'eth0', filter: HOSTS }),
      target: { namespace: 'default', name: 'same', container: 'app' },
      argv: [...WRAP('tcpdump-app'), 'timeout', '90', 'tcpdump', '-i', 'eth0', '-n', '-w', '-', '-U', '--immediate-mode', '-s', '256', '-c', '500', ...HOSTS],
      ready: { kind: 'marker', text: 'listening on' },
      output: 'pcap',
      format: 'pcap',
    },
    {
      name: 'cilium monitor in the agent, verbose, related to this node\'s endpoint ids, CLI name from resolve',
      probe: probe({ tool: 'monitor', id: 'monitor-bpf1', place: { kind: 'agent', node: 'bpf1' }, endpoints: [2836, 3663] }),
      target: { namespace: 'kube-system', name: 'cilium-bpf1', container: 'cilium-agent', cli: 'cilium' },
      argv: [...WRAP('monitor-bpf1'), 'timeout', '90', 'cilium', 'monitor', '-v', '--related-to', '2836', '--related-to', '3663'],
      ready: { kind: 'marker', text: 'Listening for events' },
      output: 'text',
      format: 'monitor',
    },
    {
      name: 'pwru in its pod: the parser\'s flags explicit, the filter one word per token, bounded by lines, attached only to the functions the report reads',
      probe: probe({ tool: 'pwru', id: 'pwru-bpf1', place: { kind: 'probe-pod', node: 'bpf1', role: 'pwru' }, filter: HOSTS }),
      target: { namespace: 'kube-system', name: 'datapath-r1-pwru-bpf1', container: 'probe' },
      argv: [...WRAP('pwru-bpf1'), 'timeout', '90', 'pwru', '--output-meta', '--output-tuple', '--filter-track-skb', '--filter-func', '^(__dev_forward_skb|__dev_queue_xmit|__ip_local_out|__kfree_skb|bpf_out_neigh_v4|bpf_out_neigh_v6|consume_skb|dev_hard_start_xmit|dev_queue_xmit|fib6_table_lookup|fib_table_lookup|geneve_rcv|geneve_xmit|ip6_forward|ip6_input|ip6_local_out|ip6_output|ip_finish_output2|ip_forward|ip_local_deliver|ip_output|ip_rcv|ipv6_rcv|kfree_skb_reason|kfree_skbmem|neigh_output|neigh_resolve_output|netif_rx|nf_hook_slow|sk_skb_reason_drop|skb_do_redirect|tcf_classify|tcf_classify_egress|tcf_classify_ingress|udp_tunnel_xmit_skb|veth_xmit|vxlan_rcv|vxlan_xmit|vxlan_xmit_one)$', '--output-limit-lines', '1000', ...HOSTS],
      ready: { kind: 'marker', text: 'Listening for events' },
      output: 'text',
      format: 'pwru',
    },
    {
      name: 'pwru with --pwru-functions all: every function that takes an skb, no --filter-func',
      ctx: { ...ctx, pwruFunctions: 'all' as const },
      probe: probe({ tool: 'pwru', id: 'pwru-bpf1', place: { kind: 'probe-pod', node: 'bpf1', role: 'pwru' }, filter: HOSTS }),
      target: { namespace: 'kube-system', name: 'datapath-r1-pwru-bpf1', container: 'probe' },
      argv: [...WRAP('pwru-bpf1'), 'timeout', '90', 'pwru', '--output-meta', '--output-tuple', '--filter-track-skb', '--output-limit-lines', '1000', ...HOSTS],
      ready: { kind: 'marker', text: 'Listening for events' },
      output: 'text',
      format: 'pwru',
    },
    {
      name: 'iptables TRACE read with xtables-monitor in the agent; silent until an event, so ready after a settle time',
      probe: probe({ tool: 'iptables', id: 'iptables-bpf1', place: { kind: 'agent', node: 'bpf1' }, addresses: ['10.0.1.135', '10.0.1.180'] }),
      target: { namespace: 'kube-system', name: 'cilium-bpf1', container: 'cilium-agent', cli: 'cilium' },
      argv: [...WRAP('iptables-bpf1'), 'timeout', '90', 'xtables-monitor', '--trace'],
      ready: { kind: 'settle', ms: 500 },
      output: 'text',
      format: 'iptables',
    },
  ] as { name: string; ctx?: CommandContext; probe: PlannedProbe; target: unknown; argv: string[]; ready: unknown; output: string; format: string }[])('$name', ({ ctx: given, probe: p, target, argv, ready, output, format }) => {
    const c = commandFor(p, given ?? ctx)!;
    expect(c.target).toEqual(target);
    expect(c.argv).toEqual(argv);
    expect(c.ready).toEqual(ready);
    expect(c.stop).toEqual(killByPidfileArgv(PIDFILE(p.id)));
    expect(c.output).toBe(output);
    expect(c.format).toBe(format);
    expect(commandName(c.argv)).toBe(p.tool === 'iptables' ? 'xtables-monitor' : p.tool === 'monitor' ? 'cilium' : p.tool);
    // argv only: the one shell script is constant, and no word carries user input into it.
    expect(c.argv.filter((w, i) => c.argv[i - 1] === '-c' && c.argv[i - 2] === 'sh')).toEqual([WRAPPER]);
  });

  it('iptables: setup inserts TRACE both ways in PREROUTING and OUTPUT with the run comment; teardown deletes exactly those', () => {
    const c = commandFor(probe({ tool: 'iptables', place: { kind: 'agent', node: 'bpf1' }, addresses: ['10.0.1.135', '10.0.1.180'] }), ctx)!;
    expect(c.setup).toEqual(insertTraceRulesArgv('10.0.1.135', '10.0.1.180', 'r1'));
    expect(c.teardown).toEqual(deleteTraceRulesArgv('10.0.1.135', '10.0.1.180', 'r1'));
    expect(c.setup.map((a) => a.join(' '))).toEqual([
      'iptables -w 5 -t raw -I PREROUTING -s 10.0.1.135 -d 10.0.1.180 -m comment --comment datapath-r1 -j TRACE',
      'iptables -w 5 -t raw -I PREROUTING -s 10.0.1.180 -d 10.0.1.135 -m comment --comment datapath-r1 -j TRACE',
      'iptables -w 5 -t raw -I OUTPUT -s 10.0.1.135 -d 10.0.1.180 -m comment --comment datapath-r1 -j TRACE',
      'iptables -w 5 -t raw -I OUTPUT -s 10.0.1.180 -d 10.0.1.135 -m comment --comment datapath-r1 -j TRACE',
    ]);
    expect(insertTraceRulesArgv('fd00::1', 'fd00::2', 'r1')[0][0]).toBe('ip6tables');
  });

  it('a probe whose place has no pod gets no command', () => {
    const none: CommandContext = { ...ctx, probePod: () => undefined, agent: () => undefined };
    expect(commandFor(probe({ tool: 'pwru', place: { kind: 'probe-pod', node: 'bpf1', role: 'pwru' } }), none)).toBeUndefined();
    expect(commandFor(probe({ tool: 'monitor', place: { kind: 'agent', node: 'bpf1' } }), none)).toBeUndefined();
  });
});

describe('cleanup of TRACE rules (real iptables-save output)', () => {
  const saved = readFixture('test/fixtures/iptables-save/raw-with-trace-rules.txt').body.join('\n');

  it('deletes every rule of our runs, by its own spec, and never anyone else\'s', () => {
    expect(leftoverTraceRules(saved).map((a) => a.join(' '))).toEqual([
      'iptables -w 5 -t raw -D PREROUTING -s 10.0.2.5/32 -d 10.0.2.6/32 -m comment --comment datapath-99ffee00 -j TRACE',
      'iptables -w 5 -t raw -D PREROUTING -s 10.0.1.180/32 -d 10.0.1.135/32 -m comment --comment datapath-1a2b3c4d -j TRACE',
      'iptables -w 5 -t raw -D PREROUTING -s 10.0.1.135/32 -d 10.0.1.180/32 -m comment --comment datapath-1a2b3c4d -j TRACE',
      'iptables -w 5 -t raw -D OUTPUT -s 10.0.1.180/32 -d 10.0.1.135/32 -m comment --comment datapath-1a2b3c4d -j TRACE',
      'iptables -w 5 -t raw -D OUTPUT -s 10.0.1.135/32 -d 10.0.1.180/32 -m comment --comment datapath-1a2b3c4d -j TRACE',
    ]);
  });

  it('one run only, when asked', () => {
    expect(leftoverTraceRules(saved, false, '99ffee00')).toHaveLength(1);
  });
});

describe('traffic commands', () => {
  const tcp80 = ['sh', '-c', `printf 'HEAD / HTTP/1.0\\r\\n\\r\\n' | nc -N -w 2 "$1" "$2"`, 'nc', '10.0.1.180', '80'];
  it.each([
    [{ kind: 'icmp' as const }, 3, [['ping', '-n', '-c', '3', '-i', '0.2', '-W', '1', '10.0.1.180']]],
    [{ kind: 'tcp' as const, port: 80 }, 2, [tcp80, tcp80]],
    [{ kind: 'udp' as const, port: 53 }, 1, [['sh', '-c', `printf 'kubectl-datapath\\n' | nc -u -w 1 "$1" "$2"`, 'nc', '10.0.1.180', '53']]],
  ])('%j x%d', (traffic, count, runs) => {
    expect(trafficCommand(traffic, '10.0.1.180', count)!.runs).toEqual(runs);
  });

  // The commands run for real (netcat-openbsd, as .ci/run installs it and netshoot ships it)
  // against servers on loopback: what each side received is what a trace captures.
  const runNc = (argv: string[]): Promise<{ code: number | null; stdout: string }> =>
    new Promise((resolve) => {
      const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.on('close', (code) => resolve({ code, stdout }));
    });

  it('tcp: sends a request, half-closes, and prints the answer of a server that then closes', async () => {
    const received: string[] = [];
    let clientHalfClosed = false;
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      socket.on('data', (d: Buffer) => received.push(d.toString('latin1')));
      socket.on('end', () => {
        clientHalfClosed = true;
        socket.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const [argv] = trafficCommand({ kind: 'tcp', port }, '127.0.0.1', 1)!.runs;
    const result = await runNc(argv);
    server.close();
    expect({ ...result, received: received.join(''), clientHalfClosed }).toEqual({
      code: 0, stdout: 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n', received: 'HEAD / HTTP/1.0\r\n\r\n', clientHalfClosed: true,
    });
  });

  it('udp: sends one datagram and prints the echo', async () => {
    const socket = createSocket('udp4');
    const received: string[] = [];
    socket.on('message', (msg, from) => {
      received.push(msg.toString());
      socket.send(msg, from.port, from.address);
    });
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    const [argv] = trafficCommand({ kind: 'udp', port: socket.address().port }, '127.0.0.1', 1)!.runs;
    const result = await runNc(argv);
    socket.close();
    expect({ ...result, received }).toEqual({ code: 0, stdout: 'kubectl-datapath\n', received: ['kubectl-datapath\n'] });
  });

  it('none sends nothing; from the node it enters the netns first', () => {
    expect(trafficCommand({ kind: 'none' }, '10.0.1.180', 3)).toBeUndefined();
    expect(fromNetns('cni-aaa', ['ping', 'x'])).toEqual(['nsenter', '--net=/run/netns/cni-aaa', 'ping', 'x']);
    expect(fromNetns('/proc/1/root/run/netns/cni-aaa', ['ping', 'x'])).toEqual(['nsenter', '--net=/proc/1/root/run/netns/cni-aaa', 'ping', 'x']);
    // Discovery is one constant script: nothing of the user's reaches a shell.
    expect(netnsLinksArgv().slice(0, 2)).toEqual(['sh', '-c']);
    expect(netnsLinksArgv()).toHaveLength(3);
    expect(routeGetArgv('192.168.56.12')).toEqual(['ip', '-o', 'route', 'get', '192.168.56.12']);
  });
});

describe('the pidfile wrapper and its stop command, run by a real sh', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pidfile-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('the pidfile names the command itself; the stop command kills it and removes the pidfile', async () => {
    const pidfile = join(dir, 'kubectl-datapath-r1-x.pid');
    const argv = withPidfile(pidfile, ['sleep', '30']);
    const child = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    for (let i = 0; i < 100 && !existsSync(pidfile); i++) await new Promise((r) => setTimeout(r, 20));
    // PID and start time (field 22 of /proc/PID/stat): what a stop checks before it kills.
    const [pid, startTime] = readFileSync(pidfile, 'utf8').trim().split(' ');
    expect([Number(pid), startTime]).toEqual([child.pid, readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ')[19]]);
    const stop = killByPidfileArgv(pidfile);
    expect(spawnSync(stop[0], stop.slice(1)).status).toBe(0);
    expect(await exited).toBe('SIGTERM');
    expect(existsSync(pidfile)).toBe(false);
    // Stopping again (cleanup after a stop) is harmless.
    expect(spawnSync(stop[0], stop.slice(1)).status).toBe(0);
  });

  it('behind `timeout N` (the pidfile names timeout), the TERM reaches the tool too', async () => {
    const pidfile = join(dir, 'kubectl-datapath-r1-t.pid');
    const marker = `${(30 + Math.random()).toFixed(6)}`;
    const argv = withPidfile(pidfile, ['timeout', '60', 'sleep', marker]);
    const child = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    for (let i = 0; i < 100 && spawnSync('pgrep', ['-f', `^sleep ${marker}$`]).status !== 0; i++) await new Promise((r) => setTimeout(r, 20));
    const stop = killByPidfileArgv(pidfile);
    spawnSync(stop[0], stop.slice(1));
    await exited;
    await new Promise((r) => setTimeout(r, 100));
    expect(spawnSync('pgrep', ['-f', `^sleep ${marker}$`]).status).toBe(1);
  });

  it('one stop command kills the probes of several pidfiles, and only those', async () => {
    const start = (name: string) => {
      const pidfile = join(dir, `kubectl-datapath-r1-${name}.pid`);
      const argv = withPidfile(pidfile, ['sleep', '30']);
      const child = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
      return { pidfile, child, exited: new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal))) };
    };
    const [a, b, other] = [start('a'), start('b'), start('other')];
    for (const p of [a, b, other]) for (let i = 0; i < 100 && !existsSync(p.pidfile); i++) await new Promise((r) => setTimeout(r, 20));
    const stop = mergeStops([killByPidfileArgv(a.pidfile), killByPidfileArgv(b.pidfile), killByPidfileArgv(join(dir, 'gone.pid'))])!;
    expect(stop).toEqual(killByPidfileArgv(a.pidfile, b.pidfile, join(dir, 'gone.pid')));
    expect(spawnSync(stop[0], stop.slice(1)).status).toBe(0);
    expect(await a.exited).toBe('SIGTERM');
    expect(await b.exited).toBe('SIGTERM');
    expect([existsSync(a.pidfile), existsSync(b.pidfile), existsSync(other.pidfile)]).toEqual([false, false, true]);
    expect(other.child.exitCode).toBeNull();
    other.child.kill();
    await other.exited;
  });

  it('a pidfile whose PID is now another process (another start time) kills nothing; cleanup names only what it killed', async () => {
    const pidfile = join(dir, 'kubectl-datapath-r2-x.pid');
    const argv = withPidfile(pidfile, ['sleep', '30']);
    const child = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    for (let i = 0; i < 100 && !existsSync(pidfile); i++) await new Promise((r) => setTimeout(r, 20));
    // The same PID with the start time of a process that has ended: the PID was reused.
    const [pid, startTime] = readFileSync(pidfile, 'utf8').trim().split(' ');
    writeFileSync(pidfile, `${pid} ${Number(startTime) - 1}\n`);
    const stale = join(dir, 'kubectl-datapath-r2-gone.pid');
    writeFileSync(stale, '999999999 1\n');
    const cleanup = killAllPidfilesArgv();
    cleanup[3] = join(dir, 'kubectl-datapath-');
    const r = spawnSync(cleanup[0], cleanup.slice(1), { encoding: 'utf8' });
    expect({ status: r.status, out: r.stdout, pidfiles: [existsSync(pidfile), existsSync(stale)], running: child.exitCode === null && child.signalCode === null }).toEqual({ status: 0, out: '', pidfiles: [false, false], running: true });
    child.kill();
    await exited;
  });

  it('merges only stop commands that kill by pidfile', () => {
    expect(mergeStops([killByPidfileArgv('/tmp/a.pid'), ['iptables', '-D', 'x']])).toBeUndefined();
    expect(mergeStops([])).toBeUndefined();
  });

  it('an argument with shell syntax stays one argument', () => {
    const pidfile = join(dir, 'p.pid');
    const argv = withPidfile(pidfile, ['printf', '%s|', '$(id)', 'a b;c']);
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
    expect(r.stdout).toBe('$(id)|a b;c|');
  });

  it('killAllPidfiles kills what every run left under the prefix', async () => {
    const kill = killAllPidfilesArgv();
    expect(kill[3]).toBe('/tmp/kubectl-datapath-');
    const prefix = join(dir, 'kubectl-datapath-');
    const children = ['a', 'b'].map((n) => {
      const argv = withPidfile(`${prefix}${n}.pid`, ['sleep', '30']);
      const child = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
      return new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, s) => resolve(s)));
    });
    for (let i = 0; i < 100 && !(existsSync(`${prefix}a.pid`) && existsSync(`${prefix}b.pid`)); i++) await new Promise((r) => setTimeout(r, 20));
    const r = spawnSync(kill[0], [...kill.slice(1, 3), prefix], { encoding: 'utf8' });
    expect(r.stdout.split('\n').filter((l) => l !== '').sort()).toEqual([`${prefix}a.pid`, `${prefix}b.pid`]);
    expect(await Promise.all(children)).toEqual(['SIGTERM', 'SIGTERM']);
  });
});

const HA: TraceTarget = { namespace: 'default', name: 'a', node: 'n1', ip: '10.0.1.5', hostNetwork: false, containers: ['app'], endpointId: 11 };
const HB: TraceTarget = { namespace: 'default', name: 'b', node: 'n2', ip: '10.0.2.7', hostNetwork: false, containers: ['app'], endpointId: 22 };
const hubbleNode = (name: string, extra: Partial<TraceNode> = {}): TraceNode => ({
  name, agent: { namespace: 'kube-system', name: `cilium-${name}`, container: 'cilium-agent', cli: 'cilium-dbg' }, probePods: {}, probePodProblems: {}, netnsOfPod: {}, ...extra,
});
const HUBBLE_SCRIPT = '"$0" status >&2 && exec "$0" observe "$@"';

describe('the Hubble probe', () => {
  it('is planned on every involved node, in its agent, filtered to both addresses; skipped where no agent runs', () => {
    const plan = planTrace(HA, HB, [hubbleNode('n1'), hubbleNode('n2', { agent: undefined, agentProblem: 'no Cilium agent pod on node n2' })], ['hubble']);
    expect(plan.probes).toEqual([
      { id: 'hubble-n1', tool: 'hubble', point: 'cilium:n1', node: 'n1', place: { kind: 'agent', node: 'n1' }, filter: [], addresses: ['10.0.1.5', '10.0.2.7'] },
    ]);
    expect(plan.skipped).toEqual([{ id: 'hubble-n2', tool: 'hubble', point: 'cilium:n2', node: 'n2', reason: 'no Cilium agent pod on node n2' }]);
  });

  it('runs hubble status, then observe --follow -o jsonpb from a moment back, bounded and stoppable by pidfile', () => {
    const [probe] = planTrace(HA, HB, [hubbleNode('n1'), hubbleNode('n2')], ['hubble']).probes;
    const cmd = commandFor(probe, ctx)!;
    expect(cmd).toEqual({
      probe,
      target: { namespace: 'kube-system', name: 'cilium-n1', container: 'cilium-agent', cli: 'cilium' },
      setup: [],
      argv: ['sh', '-c', WRAPPER, '/tmp/kubectl-datapath-r1-hubble-n1.pid', 'timeout', '90',
        'sh', '-c', HUBBLE_SCRIPT, 'hubble', '--follow', '--since', '1s', '-o', 'jsonpb', '--ip', '10.0.1.5', '--ip', '10.0.2.7'],
      ready: { kind: 'marker', text: 'Healthcheck (via ' },
      stop: ['sh', '-c', expect.any(String), '/tmp/kubectl-datapath-r1-hubble-n1.pid'],
      teardown: [],
      output: 'text',
      format: 'hubble',
      maxBytes: 64 * 1024 * 1024,
    });
  });

  describe('its script, run by a real sh with a stand-in hubble on PATH', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'hubble-probe-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const fake = (statusOk: boolean) => {
      const bin = join(dir, 'hubble');
      writeFileSync(bin, `#!/bin/sh\nif [ "$1" = status ]; then ${statusOk ? 'echo "Healthcheck (via unix:///var/run/cilium/hubble.sock): Ok"; exit 0' : 'echo "failed to connect to \'unix:///var/run/cilium/hubble.sock\': connection error" >&2; exit 1'}; fi\nprintf '%s|' "$@"\n`);
      chmodSync(bin, 0o755);
      const argv = hubbleArgv(['10.0.1.5', '10.0.2.7']);
      return spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
    };

    it('Hubble on: the status answer goes to stderr (the ready marker), observe gets every flag as one word', () => {
      const r = fake(true);
      expect([r.status, r.stderr, r.stdout]).toEqual([0, 'Healthcheck (via unix:///var/run/cilium/hubble.sock): Ok\n', 'observe|--follow|--since|1s|-o|jsonpb|--ip|10.0.1.5|--ip|10.0.2.7|']);
    });

    it('Hubble off: status fails with the CLI\'s reason and observe never starts', () => {
      const r = fake(false);
      expect([r.status, r.stderr, r.stdout]).toEqual([1, "failed to connect to 'unix:///var/run/cilium/hubble.sock': connection error\n", '']);
    });
  });
});
