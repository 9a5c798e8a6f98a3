import type { Packet } from '../model/packet.js';
import type { Knowledge } from './knowledge.js';

/** Beyond this many IP packets only the addresses in every one so far are still followed. */
const OPEN_PACKETS = 64;

/**
 * OwnerClues: what one capture on one interface (a pod's eth0, or a host-side veth) says about the
 * pod behind it, without endpoint data. Every packet on a pod's link is to or from that pod, so the
 * pod's address is in every IP packet; the pod asks ARP for its gateway or peers with its own
 * address and MAC (`who-has G tell P`); the MAC the pod sends from is the same in its own capture
 * and on the host side of its veth. Memory stays small: after OPEN_PACKETS packets only the
 * addresses seen in every packet are followed.
 */
export class OwnerClues {
  private ipPackets = 0;
  private readonly counts = new Map<string, number>();
  /** MAC a source address sent from (first seen), and the MAC it sent to. */
  private readonly macOf = new Map<string, { src: string; dst: string }>();
  /** ARP requests: sender address -> sender MAC and the address asked for. */
  private readonly arpSenders = new Map<string, { mac?: string; asked?: string }>();

  add(packet: Packet): void {
    const arp = packet.arp;
    if (arp) {
      if (arp.op === 'request' && arp.senderIp && !this.arpSenders.has(arp.senderIp) && this.arpSenders.size < 16) {
        this.arpSenders.set(arp.senderIp, { mac: packet.eth?.src, asked: arp.targetIp });
      }
      return;
    }
    const ip = packet.ip;
    if (!ip || packet.inner) return;
    this.ipPackets++;
    const open = this.ipPackets <= OPEN_PACKETS;
    this.count(ip.src, open);
    if (ip.dst !== ip.src) this.count(ip.dst, open);
    if (this.ipPackets === OPEN_PACKETS + 1) for (const [a, n] of this.counts) if (n < this.ipPackets) this.counts.delete(a);
    if (packet.eth && !this.macOf.has(ip.src) && this.macOf.size < 16) this.macOf.set(ip.src, { src: packet.eth.src, dst: packet.eth.dst });
  }

  private count(address: string, open: boolean): void {
    const n = this.counts.get(address);
    if (n !== undefined) this.counts.set(address, n + 1);
    else if (open) this.counts.set(address, 1);
  }

  /**
   * The owner's address with the evidence, or undefined when the capture does not decide it.
   * `knownMacs` are the MACs other captures showed their pod sends from (the MAC pair rule).
   */
  owner(knownMacs: Map<string, string> = new Map()): { ip: string; mac?: string; peerMac?: string; because: string[] } | undefined {
    const always = [...this.counts].filter(([, n]) => n === this.ipPackets).map(([a]) => a);
    const because = (ip: string): string[] => {
      const out: string[] = [];
      if (this.ipPackets > 0 && always.includes(ip)) {
        const packets = this.ipPackets === 1 ? 'its only IP packet' : `every one of its ${this.ipPackets} IP packets`;
        out.push(always.length === 1 ? `${ip} is in ${packets}` : `${ip} is one of the ${always.length} addresses in ${packets}`);
      }
      const arp = this.arpSenders.get(ip);
      if (arp) out.push(`it carried ARP who-has ${arp.asked ?? '?'} tell ${ip}${arp.mac ? ` from ${arp.mac}` : ''}`);
      const mac = this.macOf.get(ip)?.src;
      const pod = mac ? knownMacs.get(mac) : undefined;
      if (pod) out.push(`${ip} sent from ${mac}, the MAC ${pod}'s own capture shows it sending from`);
      return out;
    };
    const result = (ip: string) => ({ ip, mac: this.macOf.get(ip)?.src ?? this.arpSenders.get(ip)?.mac, peerMac: this.macOf.get(ip)?.dst, because: because(ip) });
    if (this.ipPackets === 0) return this.arpSenders.size === 1 ? result([...this.arpSenders.keys()][0]) : undefined;
    if (always.length === 1) return result(always[0]);
    // One conversation: both ends are in every packet. The end that asked ARP from the MAC it sends IP from is the pod here.
    const byArp = always.filter((a) => {
      const arp = this.arpSenders.get(a);
      return arp && (!arp.mac || !this.macOf.get(a) || arp.mac === this.macOf.get(a)!.src);
    });
    if (byArp.length === 1) return result(byArp[0]);
    const byMac = always.filter((a) => {
      const mac = this.macOf.get(a)?.src;
      return mac !== undefined && knownMacs.has(mac);
    });
    return byMac.length === 1 ? result(byMac[0]) : undefined;
  }
}

/** Host-side interfaces of a pod's veth pair: Cilium's lxc, and the veths other CNIs name. */
const POD_VETH = /^(lxc|veth|cali|eni|azv|gke)/;

/** Whether a capture at this point is on a pod's link: its eth0, or the host side of its veth. */
export function onPodLink(point: { kind: string; iface?: string } | undefined): boolean {
  return point?.kind === 'pod' || (point?.kind === 'host' && !!point.iface && POD_VETH.test(point.iface));
}

/** One capture on a pod's link and its clues: a pod's own (`pod`) or a host-side veth (`iface`). */
export interface LinkCapture {
  name: string;
  node?: string;
  pod?: { namespace: string; name: string };
  iface?: string;
  clues: OwnerClues;
}

/**
 * inferOwners tells Knowledge what the captures on pods' links say about their owners: first each
 * pod's address and MAC from its own capture, then the owner of each host-side veth, with the
 * pods' MACs for the MAC pair rule. Each inference keeps its evidence for the report.
 */
export function inferOwners(captures: LinkCapture[], knowledge: Knowledge): void {
  const file = (c: LinkCapture) => c.name.slice(c.name.lastIndexOf('/') + 1);
  const podMacs = new Map<string, string>();
  for (const c of captures) {
    if (!c.pod) continue;
    const o = c.clues.owner();
    if (!o) continue;
    const pod = `${c.pod.namespace}/${c.pod.name}`;
    knowledge.notePod(c.pod.namespace, c.pod.name, { ip: o.ip, node: c.node, mac: o.mac, inferred: [`address ${o.ip} inferred from its capture ${file(c)}: ${o.because.join('; ')}`] });
    if (o.mac) podMacs.set(o.mac, pod);
  }
  for (const c of captures) {
    if (!c.iface) continue;
    const o = c.clues.owner(podMacs);
    if (o) knowledge.noteIfaceOwner(c.iface, c.node, { ip: o.ip, mac: o.mac, hostMac: o.peerMac, because: `${c.iface} inferred to be ${o.ip}'s host-side interface from its capture ${file(c)}: ${o.because.join('; ')}` });
  }
}
