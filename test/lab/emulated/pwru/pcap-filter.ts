/**
 * The part of pcap-filter(7) that pwru users write to follow pod traffic: `host`, `src`/`dst`
 * (host), `net A/N`, `port`, `src port`, `dst port`, protocol words (`ip`, `arp`, `icmp`,
 * `tcp`, `udp`), `and`/`or`/`not` (`&&`, `||`, `!`), parentheses, and pcap's reuse of the
 * last qualifiers (`host a or b`). Anything else is rejected with a message like pwru's.
 */
import type { Tuple } from './skb-event.js';

/** The packet facts a filter tests. */
export interface PacketFacts {
  ethertype: number;
  tuple: Tuple;
}

type Pred = (p: PacketFacts) => boolean;

export class FilterError extends Error {}

interface Qualifiers {
  dir?: 'src' | 'dst';
  type?: 'host' | 'net' | 'port';
  proto?: 'tcp' | 'udp';
}

function ipToNum(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new FilterError(`invalid address ${ip}`);
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

function inNet(ip: string, net: string): boolean {
  if (ip === '') return false;
  const [base, lenStr] = net.split('/');
  const len = lenStr === undefined ? 32 : Number(lenStr);
  const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
  return ((ipToNum(ip) & mask) >>> 0) === ((ipToNum(base) & mask) >>> 0);
}

function tokenize(expr: string): string[] {
  return expr.replace(/([()!])/g, ' $1 ').replace(/&&/g, ' and ').replace(/\|\|/g, ' or ').split(/\s+/).filter((t) => t !== '');
}

/** Compiles a filter; an empty expression matches everything. */
export function compileFilter(expr: string): Pred {
  const tokens = tokenize(expr);
  if (tokens.length === 0) return () => true;
  let pos = 0;
  let last: Qualifiers = {};
  const peek = (): string | undefined => tokens[pos];
  const take = (): string => {
    const t = tokens[pos++];
    if (t === undefined) throw new FilterError(`syntax error in filter expression: ${expr}`);
    return t;
  };

  const valuePred = (q: Qualifiers, value: string): Pred => {
    const type = q.type ?? (/^\d+$/.test(value) ? 'port' : 'host');
    const dirs = q.dir ? [q.dir] : (['src', 'dst'] as const);
    if (type === 'port') {
      const port = Number(value);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new FilterError(`illegal port number ${value}`);
      return (p) => (p.tuple.proto === 6 || p.tuple.proto === 17) && (q.proto === undefined || p.tuple.proto === (q.proto === 'tcp' ? 6 : 17)) && dirs.some((d) => (d === 'src' ? p.tuple.sport : p.tuple.dport) === port);
    }
    const net = type === 'net' ? value : `${value}/32`;
    inNet('0.0.0.0', net); // validates the address
    return (p) => p.tuple.l3proto === 0x0800 && dirs.some((d) => inNet(d === 'src' ? p.tuple.saddr : p.tuple.daddr, net));
  };

  const primary = (): Pred => {
    const t = take();
    if (t === '(') {
      const inner = orExpr();
      if (take() !== ')') throw new FilterError(`syntax error in filter expression: ${expr}`);
      return inner;
    }
    const protos: Record<string, Pred> = {
      ip: (p) => p.ethertype === 0x0800,
      arp: (p) => p.ethertype === 0x0806,
      ip6: (p) => p.ethertype === 0x86dd,
      icmp: (p) => p.tuple.proto === 1,
      tcp: (p) => p.tuple.proto === 6,
      udp: (p) => p.tuple.proto === 17,
    };
    const q: Qualifiers = {};
    let word = t;
    if ((word === 'tcp' || word === 'udp') && (peek() === 'port' || peek() === 'src' || peek() === 'dst')) {
      q.proto = word;
      word = take();
    } else if (protos[word]) {
      return protos[word];
    }
    if (word === 'src' || word === 'dst') {
      q.dir = word;
      word = take();
    }
    if (word === 'host' || word === 'net' || word === 'port') {
      q.type = word;
      word = take();
    }
    if (q.dir === undefined && q.type === undefined && q.proto === undefined) Object.assign(q, last); // pcap reuses the last qualifiers
    last = q;
    return valuePred(q, word);
  };

  const notExpr = (): Pred => {
    if (peek() === 'not' || peek() === '!') {
      take();
      const p = notExpr();
      return (x) => !p(x);
    }
    return primary();
  };
  const andExpr = (): Pred => {
    let p = notExpr();
    while (peek() === 'and') {
      take();
      const a = p;
      const b = notExpr();
      p = (x) => a(x) && b(x);
    }
    return p;
  };
  const orExpr = (): Pred => {
    let p = andExpr();
    while (peek() === 'or') {
      take();
      const a = p;
      const b = andExpr();
      p = (x) => a(x) || b(x);
    }
    return p;
  };
  const pred = orExpr();
  if (pos !== tokens.length) throw new FilterError(`syntax error in filter expression: ${expr}`);
  return pred;
}
