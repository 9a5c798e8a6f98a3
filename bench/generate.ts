import { mkdirSync, createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';

/**
 * A deterministic mixed log: lines in the exact formats of the seed's real outputs (tcpdump -pne,
 * cilium monitor -v, pwru --output-tuple), with addresses, ICMP ids and skb addresses varied over
 * a fixed set of flows, so that more lines means more packets of the same flows.
 */
export async function generateMixedLog(dir: string, totalLines: number, flows = 200): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const tcpdumpLines = Math.floor(totalLines * 0.4);
  const monitorLines = Math.floor(totalLines * 0.3);
  const pwruLines = totalLines - tcpdumpLines - monitorLines;
  const files = [join(dir, 'tcpdump-same-eth0.txt'), join(dir, 'cilium-monitor-v.txt'), join(dir, 'pwru.txt')];
  await writeLines(files[0], tcpdumpLines, (i) => tcpdumpLine(i, flows));
  await writeLines(files[1], monitorLines, (i) => monitorLine(i, flows));
  await writeLines(files[2], pwruLines, (i) => pwruLine(i, flows));
  return files;
}

function addr(flow: number): [string, string] {
  return [`10.0.${1 + (flow % 4)}.${10 + (flow % 200)}`, `10.0.${5 + (flow % 3)}.${20 + ((flow * 7) % 200)}`];
}

function hh(n: number): string {
  return String(n).padStart(2, '0');
}

function tcpdumpLine(i: number, flows: number): string {
  if (i === 0) return 'listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes';
  const flow = i % flows;
  const [a, b] = addr(flow);
  const seq = Math.floor(i / flows) % 65536;
  const us = 16016123 + i * 3;
  const t = `09:${hh(Math.floor(us / 60e6) % 60)}:${hh(Math.floor(us / 1e6) % 60)}.${String(us % 1e6).padStart(6, '0')}`;
  const reply = (i >> 1) % 2 === 1;
  const [s, d] = reply ? [b, a] : [a, b];
  return `${t} 7a:a2:51:7c:d4:40 > 0e:fc:49:5b:00:dd, ethertype IPv4 (0x0800), length 98: ${s} > ${d}: ICMP echo ${reply ? 'reply' : 'request'}, id ${20480 + flow}, seq ${seq}, length 64`;
}

const MONITOR = [
  (a: string, b: string, id: number, ep: number) => `CPU 02: MARK 0x0 FROM ${ep} DEBUG: Conntrack lookup 1/2: src=${a}:${id} dst=${b}:0`,
  (_a: string, _b: string, _id: number, ep: number) => `CPU 02: MARK 0x0 FROM ${ep} DEBUG: Conntrack lookup 2/2: nexthdr=1 flags=1`,
  (_a: string, _b: string, _id: number, ep: number) => `CPU 02: MARK 0x0 FROM ${ep} DEBUG: CT verdict: New, revnat=0`,
  (_a: string, b: string, _id: number, ep: number) => `CPU 02: MARK 0x0 FROM ${ep} DEBUG: Successfully mapped addr=${b} to identity=37483`,
  (_a: string, _b: string, _id: number, ep: number) => `CPU 02: MARK 0x0 FROM ${ep} DEBUG: Attempting local delivery for container id 3663 from seclabel 31009`,
  (a: string, _b: string, _id: number, ep: number) => `CPU 02: MARK 0x0 FROM ${ep} to-endpoint: 98 bytes (98 captured), state new, interface lxcf9d0a91de5fb, , identity 31009->37483, orig-ip ${a}, to endpoint 3663`,
];

function monitorLine(i: number, flows: number): string {
  const group = Math.floor(i / MONITOR.length);
  const flow = group % flows;
  const [a, b] = addr(flow);
  return MONITOR[i % MONITOR.length](a, b, 22016 + flow, 2836 + (flow % 50));
}

const PWRU_FUNCS = ['__ip_local_out', 'ip_output', 'nf_hook_slow', 'neigh_resolve_output', 'dev_queue_xmit', 'netif_rx', 'tcf_classify_ingress', 'skb_do_redirect', 'ip_rcv', 'ip_local_deliver'];

function pwruLine(i: number, flows: number): string {
  if (i === 0) return 'SKB                PROCESS          FUNC                 TIMESTAMP';
  const group = Math.floor(i / PWRU_FUNCS.length);
  const flow = group % flows;
  const [a, b] = addr(flow);
  const skb = `0xffff9afc${(0xb4519b00 + (group % 4096) * 256).toString(16)}`;
  const ts = 82857431306974 + i * 2311;
  return `${skb} [ping] ${PWRU_FUNCS[i % PWRU_FUNCS.length]} ${ts} ${a}:0->${b}:0(icmp)`;
}

function writeLines(path: string, n: number, line: (i: number) => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const out: WriteStream = createWriteStream(path);
    out.on('error', reject);
    let i = 0;
    const pump = () => {
      let ok = true;
      while (i < n && ok) {
        let chunk = '';
        for (let k = 0; k < 2000 && i < n; k++, i++) chunk += line(i) + '\n';
        ok = out.write(chunk);
      }
      if (i < n) out.once('drain', pump);
      else out.end(resolve);
    };
    pump();
  });
}
