/**
 * The lab's per-packet service load balancer (kernel/bpf/lb.h) is real: a connection to the web
 * Service's ClusterIP is translated at the client's lxc (tc ingress) to the backend, so real
 * tcpdump in the client pod sees only the ClusterIP, the wire and the backend pod only the pod
 * addresses, and the reply gets the ClusterIP back as its source before it enters the client.
 * The emulated `cilium-dbg monitor -v` prints the load balancer's DEBUG lines from the datapath's
 * records (datapath debug on). A Service without backends drops with Cilium's reason.
 */
import { spawnSync } from 'node:child_process';
import { describeAsRoot } from './require-root.js';
import { emulated, quiet, settle, tcpdump, useLab, type Running } from './lab-harness.js';

const CLUSTER_IP = '10.96.100.10';

/** `src > dst` of each captured IPv4 packet (tcpdump -n -e), ports included. */
function endpoints(text: string): string[] {
  return text.split('\n').flatMap((l) => {
    const m = /length \d+: (\S+) > (\S+?): /.exec(l);
    // The service ports stay, a client's ephemeral port is masked.
    const mask = (addr: string): string => addr.replace(/\.\d+$/, (p) => (['.80', '.53'].includes(p) ? p : '.*'));
    return m ? [`${mask(m[1])} > ${mask(m[2])}`] : [];
  });
}

/** The monitor's DEBUG messages, without the `CPU NN: MARK 0x.. FROM N DEBUG: ` prefix. */
function debugMessages(text: string): string[] {
  return text.split('\n').flatMap((l) => {
    const m = /FROM (\d+) DEBUG: (.*)$/.exec(l);
    return m ? [`${m[1]}: ${m[2]}`] : [];
  });
}

const unique = (xs: string[]): string[] => [...new Set(xs)];

describeAsRoot('per-packet service load balancing in the lab datapath (bpf host routing, native routing)', () => {
  const lab = useLab({ mode: 'bpf', tunnel: 'disabled', monitorAggregation: 'none', datapathDebug: true }, 'svc');

  const nc = (netns: string, script: string) => spawnSync('ip', ['netns', 'exec', netns, 'sh', '-c', script], { encoding: 'utf8', timeout: 10_000 });

  async function captured(caps: Running[], traffic: () => void): Promise<string[][]> {
    await Promise.all(caps.map((c) => c.ready));
    traffic();
    await settle(500);
    await Promise.all(caps.map((c) => c.stop()));
    return caps.map((c) => unique(endpoints(c.stdout())));
  }

  it('ClusterIP across nodes: DNAT at the client lxc, only pod addresses on the wire, reverse NAT before the client; monitor DEBUG shows the lookup, backend and revnat', async () => {
    const l = lab();
    const same = l.pod('same');
    const web = l.pod('web');
    const monitor = emulated(l, 'bpf1', 'cilium-dbg', ['monitor', '-v'], 'Press Ctrl-C to quit');
    await monitor.ready;
    let answer = '';
    const [client, wire, backend] = await captured(
      [tcpdump(same.netns!, 'eth0', ['tcp']), tcpdump(l.nodeNetns('bpf1'), 'ens33', ['tcp']), tcpdump(web.netns!, 'eth0', ['tcp'])],
      () => (answer = nc(same.netns!, `printf 'HEAD / HTTP/1.0\\r\\n\\r\\n' | nc -N -w 2 ${CLUSTER_IP} 80`).stdout),
    );
    await quiet(monitor);
    await monitor.stop();
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect({ client, wire, backend }).toEqual({
      client: [`10.0.1.135.* > ${CLUSTER_IP}.80`, `${CLUSTER_IP}.80 > 10.0.1.135.*`],
      wire: ['10.0.1.135.* > 10.0.2.87.80', '10.0.2.87.80 > 10.0.1.135.*'],
      backend: ['10.0.1.135.* > 10.0.2.87.80', '10.0.2.87.80 > 10.0.1.135.*'],
    });
    const lb = unique(debugMessages(monitor.stdout()).filter((m) => /service|reverse NAT|revnat=[1-9]/i.test(m)).map((m) => m.replace(/lifetime=\d+/, 'lifetime=*')));
    expect(lb).toEqual([
      `2836: Frontend service lookup, addr=${CLUSTER_IP} key.dport=80`,
      '2836: Service backend slot lookup: slot=1, dport=80',
      '2836: Service backend slot lookup result: target=10.0.2.87 port=80',
      '2836: Conntrack create: proxy-port=0 revnat=1 src-identity=31009 lb=0.0.0.0',
      // The reply's lookup at the client's ingress finds the entry with the frontend's revnat ...
      '2836: CT entry found lifetime=*, revnat=1',
      '2836: CT verdict: Reply, revnat=1',
      // ... and translates the source back to the ClusterIP.
      '2836: Reverse NAT lookup, index=1',
      `2836: Performing reverse NAT, address=${CLUSTER_IP} port=80`,
      // The client's next packets: the service conntrack keeps the backend (no new slot lookup).
      '2836: CT verdict: Established, revnat=1',
    ]);
  }, 60_000);

  it('ClusterIP on the same node, UDP: the echo comes back from the ClusterIP, the backend sees the client pod', async () => {
    const l = lab();
    const client = l.pod('cni-x7k2m');
    const web = l.pod('web');
    let answer = '';
    const [atClient, atBackend] = await captured([tcpdump(client.netns!, 'eth0', ['udp']), tcpdump(web.netns!, 'eth0', ['udp'])], () => (answer = nc(client.netns!, `printf 'lab\\n' | nc -u -w 1 ${CLUSTER_IP} 53`).stdout));
    expect({ answer, atClient, atBackend }).toEqual({
      answer: 'lab\n',
      atClient: [`10.0.2.41.* > ${CLUSTER_IP}.53`, `${CLUSTER_IP}.53 > 10.0.2.41.*`],
      atBackend: ['10.0.2.41.* > 10.0.2.87.53', '10.0.2.87.53 > 10.0.2.41.*'],
    });
  }, 60_000);

  it('a Service without backends: the SYN is dropped at the client lxc with "Service backend not found", nothing reaches the wire', async () => {
    const l = lab();
    const same = l.pod('same');
    const monitor = emulated(l, 'bpf1', 'cilium-dbg', ['monitor'], 'Press Ctrl-C to quit');
    await monitor.ready;
    let code: number | null = null;
    const [wire] = await captured([tcpdump(l.nodeNetns('bpf1'), 'ens33', ['tcp'])], () => (code = nc(same.netns!, `printf x | nc -N -w 1 10.96.100.20 80`).status));
    await quiet(monitor);
    await monitor.stop();
    const drops = unique(monitor.stdout().split('\n').filter((x) => x.includes('drop (')).map((x) => x.replace(/flow 0x[0-9a-f]+/, 'flow *').replace(/:\d+ -> /, ':* -> ').replace(/bpf_lxc\.c:\d+/, 'bpf_lxc.c:*')));
    expect({ code, wire, drops }).toEqual({
      code: 1,
      wire: [],
      drops: [`xx drop (Service backend not found) flow * to endpoint 0, ifindex ${same.lxc!.ifindex}, file bpf_lxc.c:*, , identity 31009->world: 10.0.1.135:* -> 10.96.100.20:80 tcp SYN`],
    });
  }, 60_000);
});
