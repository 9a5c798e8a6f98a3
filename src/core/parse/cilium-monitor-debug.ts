/**
 * The text of cilium monitor DEBUG records (`CPU 02: MARK 0x0 FROM 2836 DEBUG: <message>`), one
 * entry per message the agent knows (pkg/monitor/datapath_debug.go DebugMsg.Message, 1.0 to
 * 1.19). Each message is matched whole: a known message with anything else after it (an author's
 * remark pasted on the line) is not understood, while a message no agent version we know prints is
 * kept as kind `other`, because newer agents add messages.
 */

/** A DEBUG message read: its kind and its arguments under the names the agent prints. */
export interface DebugMessage {
  kind: string;
  args: Record<string, string>;
}

interface Entry {
  /** Fixed start of the message, used to dispatch before trying the anchored regex. */
  prefix: string;
  kind: string;
  re: RegExp;
  /** Names of the regex groups, in order. */
  keys: readonly string[];
}

// Flags as names (IN, OUT, RELATED) or, in some agents, as the number.
const PORTS = 'sport=(\\d+) dport=(\\d+) nexthdr=(\\d+) flags=([A-Z, ]*|\\d+)';
const PORT_KEYS = ['sport', 'dport', 'nexthdr', 'flags'] as const;

const ENTRIES: readonly Entry[] = [
  e('No message, ', 'generic', /^No message, arg1=(\d+) \(0x[0-9a-f]+\) arg2=(\d+) \(0x[0-9a-f]+\)$/, ['arg1', 'arg2']),
  e('Attempting local delivery ', 'local-delivery', /^Attempting local delivery for container id (\d+) from seclabel (\d+)$/, ['container', 'seclabel']),
  e('Attempting encapsulation, ', 'netdev-encap', /^Attempting encapsulation, lookup key: (\S+), identity: (\d+)$/, ['key', 'identity']),
  e('Encapsulating to node ', 'encap', /^Encapsulating to node (\d+) \(0x[0-9a-f]+\) from seclabel (\d+)$/, ['node', 'seclabel']),
  e('Local container found ', 'lxc-found', /^Local container found ifindex (\S*) seclabel (\d+)$/, ['ifindex', 'seclabel']),
  e('Policy evaluation would deny ', 'policy-denied', /^Policy evaluation would deny packet from (\d+) to (\d+)$/, ['from', 'to']),
  e('CT lookup: ', 'ct-lookup-ports', new RegExp(`^CT lookup: ${PORTS}$`), PORT_KEYS),
  e('CT reverse lookup: ', 'ct-lookup-rev', new RegExp(`^CT reverse lookup: ${PORTS}$`), PORT_KEYS),
  e('CT lookup address: ', 'ct-lookup-addr', /^CT lookup address: (\S+)$/, ['addr']),
  e('CT entry found ', 'ct-match', /^CT entry found lifetime=(\d+), revnat=(\d+)$/, ['lifetime', 'revnat']),
  e('CT created 1/2: ', 'ct-created', new RegExp(`^CT created 1/2: ${PORTS} revnat=(\\d+)$`), [...PORT_KEYS, 'revnat']),
  e('CT created 2/2: ', 'ct-created-2', /^CT created 2\/2: (\S+) revnat=(\d+)$/, ['addr', 'revnat']),
  e('CT verdict: ', 'ct-verdict', /^CT verdict: (.+?), revnat=(\d+)$/, ['verdict', 'revnat']),
  e('Handling ICMPv6 ', 'icmp6-handle', /^Handling ICMPv6 type=(\d+)$/, ['type']),
  e('ICMPv6 echo request ', 'icmp6-echo-request', /^ICMPv6 echo request for router offset=(\d+)$/, ['offset']),
  e('ICMPv6 neighbour soliciation ', 'icmp6-ns', /^ICMPv6 neighbour soliciation for address ([0-9a-f]+:[0-9a-f]+)$/, ['address']),
  e('Sending ICMPv6 time exceeded', 'icmp6-time-exceeded', /^Sending ICMPv6 time exceeded$/, []),
  e('Tunnel decap: ', 'decap', /^Tunnel decap: id=(\d+) flowlabel=([0-9a-f]+)$/, ['id', 'flowlabel']),
  e('Mapping port ', 'port-map', /^Mapping port from=(\d+) to=(\d+)$/, ['from', 'to']),
  e('BPF function ', 'error-ret', /^BPF function (\d+) returned error (-?\d+)$/, ['function', 'error']),
  e('Going to host, ', 'to-host', /^Going to host, policy-skip=(\d+)$/, ['policy-skip']),
  e('Going to the stack, ', 'to-stack', /^Going to the stack, policy-skip=(\d+)$/, ['policy-skip']),
  e('Packet hash=', 'pkt-hash', /^Packet hash=(\d+) \(0x[0-9a-f]+\), selected_service=(\d+)$/, ['hash', 'selected_service']),
  e('RR backend slot selection ', 'rr-backend-slot', /^RR backend slot selection hash=(\d+) \(0x[0-9a-f]+\), selected_service=(\d+)$/, ['hash', 'selected_service']),
  e('Frontend service lookup failed', 'lb-frontend-lookup-failed', /^Frontend service lookup failed(?:, addr\.p2=([0-9a-f]+) addr\.p3=([0-9a-f]+))?$/, ['addr.p2', 'addr.p3']),
  e('Frontend service lookup, ', 'lb-frontend-lookup', /^Frontend service lookup, addr(?:\.p4)?=(\S+) key\.dport=(\d+)$/, ['addr', 'key.dport']),
  e('Service backend slot lookup: ', 'lb-backend-slot-lookup', /^Service backend slot lookup: slot=(\d+), dport=(\d+)$/, ['slot', 'dport']),
  e('Service backend slot lookup failed: ', 'lb-backend-slot-lookup-failed', /^Service backend slot lookup failed: slot=(\d+), dport=(\d+)$/, ['slot', 'dport']),
  e('Service backend slot lookup result: ', 'lb-backend-slot-result', /^Service backend slot lookup result: target(?:\.p4)?=(\S+) port=(\d+)$/, ['target', 'port']),
  e('Backend service lookup failed: ', 'lb-backend-lookup-failed', /^Backend service lookup failed: backend_id=(\d+)$/, ['backend_id']),
  e('Reverse NAT lookup, ', 'lb-rev-nat-lookup', /^Reverse NAT lookup, index=(\d+)$/, ['index']),
  e('Performing reverse NAT, ', 'lb-rev-nat', /^Performing reverse NAT, address(?:\.p4)?=(\S+) port=(\d+)$/, ['address', 'port']),
  e('Loopback SNAT ', 'lb-loopback-snat', /^Loopback SNAT from=(\S+) to=(\S+)$/, ['from', 'to']),
  e('Loopback reverse SNAT ', 'lb-loopback-snat-rev', /^Loopback reverse SNAT from=(\S+) to=(\S+)$/, ['from', 'to']),
  e('Reverse proxy lookup ', 'rev-proxy-lookup', /^Reverse proxy lookup sport=(\d+) dport=(\d+) saddr=(\S+) nexthdr=(\d+)$/, ['sport', 'dport', 'saddr', 'nexthdr']),
  e('Reverse proxy entry found, ', 'rev-proxy-found', /^Reverse proxy entry found, orig-daddr=(\S+) orig-dport=(\d+)$/, ['orig-daddr', 'orig-dport']),
  e('Reverse proxy updated ', 'rev-proxy-update', /^Reverse proxy updated sport=(\d+) dport=(\d+) saddr=(\S+) nexthdr=(\d+)$/, ['sport', 'dport', 'saddr', 'nexthdr']),
  e('Resolved L4 policy to: ', 'l4-policy', /^Resolved L4 policy to: (\d+) \/ (\S*)$/, ['port', 'direction']),
  e('Destination is inside cluster prefix, ', 'netdev-in-cluster', /^Destination is inside cluster prefix, source identity: (\d+)$/, ['identity']),
  e('Conntrack lookup 1/2: ', 'ct-lookup', /^Conntrack lookup 1\/2: src=(\S+) dst=(\S+)$/, ['src', 'dst']),
  // 1.16+ add the lookup's direction and scope: `nexthdr=6 flags=0 dir=0 scope=0`.
  e('Conntrack lookup 2/2: ', 'ct-lookup-2', /^Conntrack lookup 2\/2: nexthdr=(\d+) flags=(\d+)(?: dir=(\d+) scope=(\d+))?$/, ['nexthdr', 'flags', 'dir', 'scope']),
  e('Conntrack create: ', 'ct-create', /^Conntrack create: proxy-port=(\d+) revnat=(\d+) src-identity=(\d+)(?: lb=(\S+))?$/, ['proxy-port', 'revnat', 'src-identity', 'lb']),
  e('Skipping proxy, ', 'skip-proxy', /^Skipping proxy, tc_index is set=([0-9a-f]+)$/, ['tc_index']),
  e('Matched L4 policy; ', 'l4-create', /^Matched L4 policy; creating conntrack src=(\d+) dst=(\d+) dport=(\d+) proto=(\d+)$/, ['src', 'dst', 'dport', 'proto']),
  e('Failed to map addr', 'identity-map-failed', /^Failed to map addr(?:\.p4)?=(\S+) to identity$/, ['addr']),
  e('Successfully mapped addr', 'identity-mapped', /^Successfully mapped addr(?:\.p4)?=(\S+) to identity=(\d+)$/, ['addr', 'identity']),
  e('Stale CT entry found ', 'lb-stale-ct', /^Stale CT entry found stale_ct\.rev_nat_id=(\d+), svc\.rev_nat_id=(\d+)$/, ['stale_ct.rev_nat_id', 'svc.rev_nat_id']),
  e('Inheriting identity=', 'inherit-identity', /^Inheriting identity=(\d+) from stack$/, ['identity']),
  e('Socket lookup: ', 'sk-lookup', /^Socket lookup: src=(\S+) dst=(\S+)$/, ['src', 'dst']),
  e('Socket assign: ', 'sk-assign', /^Socket assign: (.+)$/, ['result']),
  e('L7 LB from ', 'l7-lb', /^L7 LB from (\S+) to (\S+): proxy port (\d+)$/, ['from', 'to', 'proxy-port']),
  e('Unknown message type=', 'unknown', /^Unknown message type=(\d+) arg1=(\d+) arg2=(\d+)$/, ['type', 'arg1', 'arg2']),
];

function e(prefix: string, kind: string, re: RegExp, keys: readonly string[]): Entry {
  return { prefix, kind, re, keys };
}

/**
 * Entries by the first letters of the message's first two words, so a line compares one to three
 * prefixes and runs one regex, not fifty, and builds no string to find them: this runs for every
 * DEBUG line. A prefix of one word only (none so far) would be tried for every message.
 */
const BY_LEADS = new Map<number, Entry[]>();
const ONE_WORD: Entry[] = [];
for (const entry of ENTRIES) {
  const key = leads(entry.prefix);
  if (key < 0) {
    ONE_WORD.push(entry);
    continue;
  }
  const list = BY_LEADS.get(key);
  if (list) list.push(entry);
  else BY_LEADS.set(key, [entry]);
}

/** The first character of the first and of the second word, as one number; -1 without a second word. */
function leads(s: string): number {
  const sp = s.indexOf(' ');
  if (sp < 0 || sp + 1 >= s.length) return -1;
  return s.charCodeAt(0) * 65536 + s.charCodeAt(sp + 1);
}

/**
 * parseDebugMessage reads the text after `DEBUG: `. It returns undefined when the text starts like
 * a known message but does not match it whole (so the caller reports the line as not understood).
 */
export function parseDebugMessage(message: string): DebugMessage | undefined {
  const candidates = BY_LEADS.get(leads(message));
  let read = candidates ? matchEntry(candidates, message) : null;
  if (read === null && ONE_WORD.length) read = matchEntry(ONE_WORD, message);
  return read === null ? { kind: 'other', args: {} } : read;
}

/**
 * The message read by the entry whose prefix it starts with: undefined if that entry's regex
 * fails, null if no prefix fits. No prefix starts with another (a test checks), so the regexes,
 * anchored at their prefix, are tried first: a prefix compared against a string that is not a
 * literal at the call site is slow in V8, and only a line that matches no entry pays for it.
 */
function matchEntry(entries: readonly Entry[], message: string): DebugMessage | undefined | null {
  for (const entry of entries) {
    const m = entry.re.exec(message);
    if (!m) continue;
    const args: Record<string, string> = {};
    for (let i = 0; i < entry.keys.length; i++) {
      const v = m[i + 1];
      if (v !== undefined) args[entry.keys[i]] = v;
    }
    return { kind: entry.kind, args };
  }
  for (const entry of entries) if (message.startsWith(entry.prefix)) return undefined;
  return null;
}

/** The prefixes of the known messages (for the test that none starts with another). */
export const DEBUG_MESSAGE_PREFIXES: readonly string[] = ENTRIES.map((entry) => entry.prefix);
