/**
 * `kubectl datapath trace` end to end against the lab: the real CLI (commander, client-node, the
 * exec adapter) talks to the lab's HTTPS API server, whose exec runs the probes for real in the
 * lab's namespaces (tcpdump, nsenter, ip, iptables, ping from the machine; cilium-dbg and pwru
 * emulated from the packets the lab's tc BPF datapath really handled). Each run must leave
 * nothing behind: no probe pod, no process in a node's netns, no TRACE rule, no pidfile.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildProgram, type CommandOutcome } from '../../src/cli/program.js';
import type { HopReport } from '../../src/core/model/report.js';
import { cli, useApiLab, type Lab } from './api-lab.js';
import { TextSink } from '../helpers/run-main.js';
import { describeAsRoot } from './require-root.js';

/** What the trace could have left on the lab's nodes: our processes in their netns, TRACE rules, pidfiles. */
function leftovers(lab: Lab, runId?: string): string[] {
  const found: string[] = [];
  for (const node of lab.state.nodes) {
    const pids = spawnSync('ip', ['netns', 'pids', node.netns], { encoding: 'utf8' }).stdout.split('\n').filter((p) => p !== '');
    for (const pid of pids) {
      const cmd = (() => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
        } catch {
          return '';
        }
      })();
      if (/tcpdump -i .* -w - -U|pwru(?:\.ts)? --output-meta|monitor -v|xtables-monitor --trace|kubectl-datapath-/.test(cmd)) found.push(`${node.name}: ${cmd}`);
    }
    const raw = spawnSync('ip', ['netns', 'exec', node.netns, 'iptables-save', '-t', 'raw'], { encoding: 'utf8' }).stdout;
    for (const line of raw.split('\n')) if (line.includes('datapath-')) found.push(`${node.name}: ${line}`);
  }
  // Pidfiles of other runs (someone else's trace) are not ours to judge.
  if (runId) for (const f of readdirSync('/tmp')) if (f.startsWith(`kubectl-datapath-${runId}-`)) found.push(`/tmp/${f}`);
  return found;
}

async function probePods(lab: Lab): Promise<string> {
  const r = spawnSync('kubectl', ['--kubeconfig', lab.kubeconfig, 'get', 'pods', '-A', '-l', 'app.kubernetes.io/managed-by=kubectl-datapath', '-o', 'name'], { encoding: 'utf8' });
  return r.stdout.trim();
}

function flow(report: HopReport, direction: 'request' | 'reply') {
  const f = report.flows.find((x) => x.protocol === 'icmp' && x.direction === direction && x.srcIp === (direction === 'request' ? '10.0.1.135' : x.srcIp));
  if (!f) throw new Error(`no ${direction} flow: ${report.flows.map((x) => `${x.src} > ${x.dst}`).join(', ')}`);
  return f;
}

describeAsRoot('trace against the lab: bpf host routing, native routing between nodes', () => {
  const lab = useApiLab('disabled');

  it('same node: every probe ok, traffic after all are ready, redirect-peer both ways as in the seed; --save + analyze agree', async () => {
    const l = lab();
    const save = join(dirname(l.dir), 'save-same');
    const r = await cli(['trace', 'same', 'cni-6vf5d', '--kubeconfig', l.kubeconfig, '-o', 'json', '--save', save, '--count', '2']);
    const pcapng = join(save, 'wireshark', 'trace.pcapng');
    expect(r.err.split('\n')[0]).toBe(`saved the raw outputs and run.json in ${save}: kubectl datapath analyze ${save} rebuilds this report`);
    expect(r.err).toContain(`wrote ${pcapng}: 12 packets on 4 interfaces`);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as HopReport;
    // The live run's pcapng opens in real tshark: one interface per capture point, named by its point id.
    const names = spawnSync('tshark', ['-r', pcapng, '-T', 'fields', '-e', 'frame.interface_name'], { encoding: 'utf8' }).stdout.trim().split('\n');
    const perPoint = (p: string) => names.filter((n) => n === p).length;
    expect(perPoint('pod:default/same/eth0')).toBe(4);
    expect(perPoint('pod:default/cni-6vf5d/eth0')).toBe(4);
    expect(report.inputs.map((i) => `${i.point} ${i.status}`).sort()).toEqual([
      'cilium:bpf1 ok',
      // Hubble, on by default (the lab's agents run it, as Cilium's chart does).
      'cilium:bpf1 ok',
      'host:bpf1/' + l.state.pods.find((p) => p.name === 'cni-6vf5d')!.lxc!.name + ' ok',
      'host:bpf1/' + l.state.pods.find((p) => p.name === 'same')!.lxc!.name + ' ok',
      'kernel:bpf1 ok',
      'pod:default/cni-6vf5d/eth0 ok',
      'pod:default/same/eth0 ok',
    ].sort());
    const request = flow(report, 'request');
    expect(request.path).toEqual(['redirect-peer']);
    expect(request.verdict).toBe('delivered');
    // The pods' own captures saw both pings: the traffic started after they were listening.
    expect(report.inputs.find((i) => i.point === 'pod:default/same/eth0')!.understood).toBe(4);
    const reply = report.flows.find((x) => x.direction === 'reply' && x.srcIp === '10.0.1.180')!;
    expect(reply.path).toEqual(['redirect-peer']);

    const again = await cli(['analyze', save, '-o', 'json']);
    const replayed = JSON.parse(again.out) as HopReport;
    expect(replayed.flows).toEqual(report.flows);
    expect(replayed.endpoints).toEqual(report.endpoints);
    const runId = JSON.parse(readFileSync(join(save, 'run.json'), 'utf8')).kubectlDatapathRun.runId as string;
    expect(leftovers(l, runId)).toEqual([]);
    expect(await probePods(l)).toBe('');
  }, 120_000);

  it('cross node with an iptables TRACE: underlay captures on both nodes, monitors related per node, rules removed', async () => {
    const l = lab();
    const r = await cli(['trace', 'same', 'web', '--kubeconfig', l.kubeconfig, '-o', 'json', '--probes', 'tcpdump,monitor,iptables', '--count', '1']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as HopReport;
    const points = report.inputs.map((i) => i.point);
    expect(points).toEqual(expect.arrayContaining(['host:bpf1/ens33', 'host:bpf2/ens33', 'cilium:bpf1', 'cilium:bpf2', 'iptables:bpf1', 'iptables:bpf2']));
    expect(report.inputs.every((i) => i.status === 'ok')).toBe(true);
    const request = flow(report, 'request');
    expect(request.seenAt).toEqual(expect.arrayContaining(['host:bpf1/ens33', 'host:bpf2/ens33', 'pod:default/web/eth0']));
    expect(request.path).toContain('native-routing');
    expect(leftovers(l)).toEqual([]);
    expect(await probePods(l)).toBe('');
  }, 120_000);

  it('Ctrl-C once the probes run: the partial report is printed, exit 130, nothing is left behind', async () => {
    const l = lab();
    const out = new TextSink();
    const err = new TextSink();
    const outcome: CommandOutcome = { exitCode: 0 };
    const abort = new AbortController();
    const program = buildProgram({ out, err, env: {} }, outcome, abort.signal);
    const watching = setInterval(() => {
      // The first tcpdump is running on bpf1: interrupt now, while the slower probes attach.
      if (leftovers(l).some((x) => x.includes('tcpdump'))) {
        clearInterval(watching);
        abort.abort();
      }
    }, 50);
    try {
      await program.parseAsync(['trace', 'same', 'cni-6vf5d', '--kubeconfig', l.kubeconfig, '-o', 'json', '--traffic', 'none', '--duration', '20', '--timeout', '40'], { from: 'user' });
    } finally {
      clearInterval(watching);
    }
    expect(abort.signal.aborted).toBe(true);
    expect(outcome.exitCode).toBe(130);
    const report = JSON.parse(out.text) as HopReport;
    expect(report.warnings).toContain('interrupted (Ctrl-C): the report holds what was collected until then');
    expect(leftovers(l)).toEqual([]);
    expect(await probePods(l)).toBe('');
  }, 120_000);

  it('cleanup finds nothing after clean runs (and the leftover check does see a capture left running)', async () => {
    const l = lab();
    const node = l.state.nodes[0];
    const stray = spawn('ip', ['netns', 'exec', node.netns, 'timeout', '30', 'tcpdump', '-i', 'lo', '-n', '-w', '-', '-U', '-c', '1', 'host', '203.0.113.9'], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 50 && !leftovers(l).some((x) => x.includes('203.0.113.9')); i++) await new Promise((res) => setTimeout(res, 100));
      expect(leftovers(l).filter((x) => x.includes('203.0.113.9')).length).toBeGreaterThan(0);
    } finally {
      stray.kill('SIGTERM');
      await new Promise((res) => stray.once('exit', res));
    }
    const r = await cli(['cleanup', '--kubeconfig', l.kubeconfig]);
    expect(r).toEqual({ code: 0, out: '', err: 'nothing was left behind\n' });
  }, 60_000);
});

describeAsRoot('trace against the lab: VXLAN tunnel between nodes', () => {
  const lab = useApiLab('vxlan');

  it('the tunnel device and the underlay NIC of both nodes see this pair only, the inner packets decoded', async () => {
    const l = lab();
    const r = await cli(['trace', 'same', 'web', '--kubeconfig', l.kubeconfig, '-o', 'json', '--probes', 'tcpdump,monitor', '--count', '2']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as HopReport;
    for (const node of ['bpf1', 'bpf2']) {
      // 2 requests + 2 replies: the underlay filter matched the inner pair inside VXLAN, nothing else.
      expect(report.inputs.find((i) => i.point === `host:${node}/ens33`)).toMatchObject({ status: 'ok', understood: 4 });
      expect(report.inputs.find((i) => i.point === `host:${node}/cilium_vxlan`)).toMatchObject({ status: 'ok', understood: 4 });
    }
    const request = flow(report, 'request');
    expect(request.path[0]).toBe('overlay');
    expect(request.verdict).toBe('delivered');
    expect(leftovers(l)).toEqual([]);
    expect(existsSync(l.kubeconfig)).toBe(true);
  }, 120_000);
});
