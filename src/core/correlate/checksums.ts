import type { ReportFlow } from '../model/report.js';

/**
 * checksumNote surfaces the checksums a capture showed wrong, with what they mean. A TCP or UDP
 * checksum tcpdump calls incorrect is what checksum offload looks like: the sender leaves it for
 * the NIC (CHECKSUM_PARTIAL), and on veth pairs it is never filled in at all, so every capture
 * along a pod's path may show it; it matters only if the receiver drops the packet for it (pwru
 * TCP_CSUM/UDP_CSUM). The IPv4 header checksum is always computed in software: a bad one means
 * the packet was corrupted or rewritten without fixing it, and receivers drop it.
 */
export function checksumNote(flow: ReportFlow): string | undefined {
  const seen = new Map<string, string[]>();
  for (const p of flow.packets) {
    for (const h of p.hops) {
      const bad = h.facts?.checksum;
      if (typeof bad !== 'string') continue;
      const points = seen.get(bad.startsWith('ip ') ? 'ip' : 'l4') ?? [];
      if (!points.includes(h.point)) points.push(h.point);
      seen.set(bad.startsWith('ip ') ? 'ip' : 'l4', points);
    }
  }
  const out: string[] = [];
  const ip = seen.get('ip');
  if (ip) out.push(`a bad IPv4 header checksum at ${ip.join(', ')}: that checksum is computed in software, so the packet was corrupted or rewritten without fixing it, and a receiver drops it`);
  const l4 = seen.get('l4');
  if (l4) out.push(`an incorrect ${flow.protocol.toUpperCase()} checksum at ${l4.join(', ')}: what checksum offload looks like (the sender leaves it to the NIC, and over veth it is never filled in), harmless unless the receiver drops the packet for it (pwru TCP_CSUM/UDP_CSUM)`);
  return out.length ? `tcpdump showed ${out.join('; and ')}.` : undefined;
}
