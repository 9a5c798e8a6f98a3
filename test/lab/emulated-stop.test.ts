/**
 * How the emulated monitor and pwru end, and what they cost while idle. The real tools print each
 * event as they read it, so stopping them right after a ping loses nothing they had; the emulated
 * ones poll the datapath's event file (monitor, every 50 ms) and hold records for 300 ms to merge
 * two streams (pwru), so they print what they hold when the stop comes. And the tracer behind the
 * emulated pwru does not report the skbs of its own output (its reader's socketpair), which made
 * it trace itself without end.
 */
import { describeAsRoot } from './require-root.js';
import { emulated, ping, settle, useLab } from './lab-harness.js';

describeAsRoot('emulated tools at their stop', () => {
  const lab = useLab({ mode: 'bpf', tunnel: 'disabled', monitorAggregation: 'none' }, 'emulated-stop');

  it('pwru without a filter prints next to nothing on an idle node: not the records of its own output', async () => {
    const l = lab();
    const pwru = emulated(l, 'bpf1', 'pwru', ['--output-meta', '--output-tuple'], 'Listening for events..');
    await pwru.ready;
    await settle(1500);
    await pwru.stop();
    // The header, and at most a stray packet of the node; with the loop it was thousands of lines.
    const lines = pwru.stdout().trim().split('\n');
    expect(lines.length).toBeLessThan(20);
    expect(pwru.stderr()).toContain('Received signal, exiting program..');
  }, 30000);

  it('pwru stopped right after a ping prints the ping', async () => {
    const l = lab();
    const [same, cni] = [l.pod('same'), l.pod('cni-6vf5d')];
    const pwru = emulated(l, 'bpf1', 'pwru', ['--output-meta', '--output-tuple', '--filter-track-skb', 'host', same.ip, 'and', 'host', cni.ip], 'Listening for events..');
    await pwru.ready;
    ping(same.netns!, cni.ip);
    // Well inside the 300 ms it holds records for.
    await pwru.stop();
    const funcs = pwru.stdout().trim().split('\n').slice(1).map((line) => line.trim().split(/\s+/).slice(10).join(' '));
    for (const f of ['ip_send_skb', 'tcf_classify', 'skb_do_redirect', 'ip_rcv', 'icmp_rcv', 'icmp_echo', 'kfree_skbmem']) expect(funcs).toContain(f);
    expect(pwru.stderr()).toMatch(/Received signal, exiting program\.\.\n.*Detaching kprobes\.\.\./);
  }, 30000);

  it('monitor ended by SIGTERM right after a ping prints the ping, then dies of the signal without a farewell', async () => {
    const l = lab();
    const [same, cni] = [l.pod('same'), l.pod('cni-6vf5d')];
    const monitor = emulated(l, 'bpf1', 'cilium-dbg', ['monitor', '--related-to', String(cni.endpointId)], 'Press Ctrl-C to quit');
    await monitor.ready;
    const exited = new Promise<NodeJS.Signals | null>((resolve) => monitor.proc.on('exit', (_code, signal) => resolve(signal)));
    ping(same.netns!, cni.ip);
    monitor.proc.kill('SIGTERM');
    expect(await exited).toBe('SIGTERM');
    const lines = monitor.stdout().trim().split('\n');
    expect(lines.filter((x) => x.startsWith(`-> endpoint ${cni.endpointId} flow`))).toHaveLength(1);
    expect(monitor.stderr()).not.toContain('Received an interrupt');
  }, 30000);
});
