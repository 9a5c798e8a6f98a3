/**
 * The emulated pwru's --filter-track-skb follows an skb by address only for the skb's life, as
 * real pwru does (v1.0.9 deletes the address from its skb_addresses map in a kprobe on
 * kfree_skbmem), or until the node hands it to the wire: one ping prints a few dozen lines per
 * skb, and a later, unrelated packet that the slab allocator puts at a freed address of the ping
 * is not printed.
 */
import { describeAsRoot } from './require-root.js';
import { emulated, ping, quiet, useLab, type TestLab } from './lab-harness.js';
import type { LabPod } from './state.js';

/** The fields of one pwru line (--output-meta --output-tuple, no timestamp) the tests read. */
interface PwruLine {
  skb: string;
  ifname: string;
  tuple: string;
  func: string;
}

function parsePwru(stdout: string): PwruLine[] {
  return stdout
    .trim()
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => {
      // SKB CPU PROCESS NETNS MARK/x IFACE PROTO MTU LEN TUPLE FUNC
      const f = l.trim().split(/\s+/);
      return { skb: f[0], ifname: f[5], tuple: f[9], func: f.slice(10).join(' ') };
    });
}

/** pwru as the plugin runs it (src/probes/pwru.ts, without the line limit) while `traffic` runs. */
async function trackedPwru(lab: TestLab, node: string, hosts: [string, string], traffic: () => void): Promise<PwruLine[]> {
  const pwru = emulated(lab, node, 'pwru', ['--output-meta', '--output-tuple', '--filter-track-skb', 'host', hosts[0], 'and', 'host', hosts[1]], 'Listening for events..');
  await pwru.ready;
  traffic();
  await quiet(pwru, 1500);
  await pwru.stop();
  if (!pwru.stderr().includes('Received signal, exiting program..')) throw new Error(`pwru did not exit on SIGINT: ${pwru.stderr()}`);
  return parsePwru(pwru.stdout());
}

/** A tuple column naming both hosts, in either direction (what the pcap filter selects). */
function ofPair(tuple: string, a: string, b: string): boolean {
  return tuple.startsWith(`${a}:`) ? tuple.includes(`->${b}:`) : tuple.startsWith(`${b}:`) && tuple.includes(`->${a}:`);
}

/**
 * Splits the lines into skb lives: a life starts at a line the filter matched and ends with
 * kfree_skbmem. Returns the lives and the lines printed outside any (tracked after the free).
 */
function lives(lines: PwruLine[], a: string, b: string): { lives: PwruLine[][]; stray: PwruLine[] } {
  const live = new Map<string, PwruLine[]>();
  const done: PwruLine[][] = [];
  const stray: PwruLine[] = [];
  for (const line of lines) {
    let life = live.get(line.skb);
    if (!life && ofPair(line.tuple, a, b)) live.set(line.skb, (life = []));
    if (!life) {
      stray.push(line);
      continue;
    }
    life.push(line);
    if (line.func === 'kfree_skbmem') {
      done.push(life);
      live.delete(line.skb);
    }
  }
  return { lives: [...done, ...live.values()], stray };
}

/** The life of the skb a socket sent with this source address (its first line is ip_send_skb). */
function sentBy(skbs: PwruLine[][], src: string): PwruLine[] {
  const life = skbs.find((s) => s[0].func === 'ip_send_skb' && s[0].tuple.startsWith(`${src}:`));
  if (!life) throw new Error(`no skb sent by ${src} in ${JSON.stringify(skbs.map((s) => s[0]))}`);
  return life;
}

/**
 * One ping from `same` to `dst` under pwru on bpf1, then unrelated pings in the same netns whose
 * skbs come from the same slab and take the ping's freed addresses (when pwru never forgot an
 * address, this printed 2,070 lines for the same-node ping, 1,966 of them for those pings).
 * Checks that every line belongs to a life the filter started and that the output stays small.
 */
async function pingUnderPwru(lab: TestLab, dst: LabPod, label: string): Promise<{ lines: PwruLine[]; skbs: PwruLine[][] }> {
  const same = lab.pod('same');
  const cni = lab.pod('cni-6vf5d');
  const lines = await trackedPwru(lab, 'bpf1', [same.ip, dst.ip], () => {
    ping(same.netns!, dst.ip);
    ping(cni.netns!, '10.0.1.159', 50, ['-i', '0.01']);
  });
  const { lives: skbs, stray } = lives(lines, same.ip, dst.ip);
  process.stderr.write(`${label}: ${lines.length} lines, ${skbs.length} skb lives (${skbs.map((s) => s.length).join(', ')}), ${stray.length} stray\n`);
  expect(stray).toEqual([]);
  expect(lines.filter((x) => x.tuple.includes('10.0.1.159'))).toEqual([]);
  expect(lines.length).toBeLessThanOrEqual(200);
  return { lines, skbs };
}

describeAsRoot('emulated pwru --filter-track-skb', () => {
  const lab = useLab({ mode: 'bpf', tunnel: 'vxlan', monitorAggregation: 'none' }, 'pwru-track-skb');

  it('follows each skb of a same-node ping until it is freed, not the packets that reuse its address', async () => {
    const l = lab();
    const { skbs } = await pingUnderPwru(l, l.pod('cni-6vf5d'), 'same-node ping');
    // Request and reply, plus the short lives of their clones for the pods' raw ICMP sockets.
    for (const s of skbs) expect(s.length).toBeLessThanOrEqual(80);
    const request = sentBy(skbs, l.pod('same').ip).map((x) => x.func);
    for (const f of ['ip_send_skb', '__dev_queue_xmit', 'dev_hard_start_xmit', 'netif_rx_internal', '__netif_receive_skb_one_core', 'tcf_classify', 'skb_do_redirect', 'ip_rcv', 'ip_local_deliver', 'icmp_rcv', 'icmp_echo', 'consume_skb']) {
      expect(request).toContain(f);
    }
    expect(request).not.toContain('ip_forward');
    expect(request[request.length - 1]).toBe('kfree_skbmem');
    const reply = sentBy(skbs, l.pod('cni-6vf5d').ip).map((x) => x.func);
    for (const f of ['__dev_queue_xmit', 'tcf_classify', 'skb_do_redirect', 'ip_rcv', 'icmp_rcv']) expect(reply).toContain(f);
    expect(reply[reply.length - 1]).toBe('kfree_skbmem');
  }, 60000);

  it('follows a cross-node request through VXLAN encapsulation until it leaves the node, and nothing else', async () => {
    const l = lab();
    const remote = l.pod('cni-x7k2m');
    const { skbs } = await pingUnderPwru(l, remote, 'cross-node ping');
    const request = sentBy(skbs, l.pod('same').ip);
    const funcs = request.map((x) => x.func);
    for (const f of ['ip_send_skb', 'tcf_classify', 'skb_do_redirect', 'vxlan_xmit', 'udp_tunnel_xmit_skb', 'ip_finish_output2', 'dev_hard_start_xmit']) expect(funcs).toContain(f);
    // Tracked by address after encapsulation (the outer header no longer names the pods) up to
    // its hand-off to the underlay: what follows at its address is another packet.
    const last = request[request.length - 1];
    expect(last.ifname).toMatch(/^ens33:/);
    expect(last.tuple).toMatch(/^192\.168\.2\.61:\d+->192\.168\.2\.62:8472\(udp\)$/);
    // The reply, decapsulated here, is delivered to same's socket and freed.
    const reply = skbs.find((s) => s.some((x) => x.func === 'icmp_rcv') && s[0].tuple.startsWith(`${remote.ip}:`));
    expect(reply?.map((x) => x.func)).toEqual(expect.arrayContaining(['skb_do_redirect', 'ip_rcv', 'icmp_rcv', 'kfree_skbmem']));
  }, 60000);
});
