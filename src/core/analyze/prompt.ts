import { hostPoint, kernelPoint, podPoint } from '../points.js';

/**
 * What a shell prompt line in a hand-made transcript tells: where the command ran and what it was.
 * `root@bpf1:~# kubectl exec -ti same -- tcpdump -pne -i eth0` ran tcpdump on eth0 of pod
 * default/same; `root@bpf1:~# tcpdump -pne -i lxcda6f5295b4b7` ran on node bpf1's lxc.
 */
export interface CommandPlace {
  /** Host name from the prompt (`root@bpf1`): where the command itself ran, unless it is kubectl exec. */
  host?: string;
  /** Set when the command ran inside a pod through kubectl exec. */
  pod?: { namespace: string; name: string };
  /** The program that produced the output (tcpdump, pwru, cilium, cilium-dbg, ethtool, ...). */
  program?: string;
  /** Point id when the command names one (tcpdump -i IFACE, pwru). */
  point?: string;
  /** Node the output belongs to when the prompt says it (not for kubectl exec into an app pod). */
  node?: string;
}

const PROMPT = /^([\w.-]+)@([\w.-]+):[^#$]*[#$] (.*)$/;

/** readPrompt parses `user@host:dir# command args`; undefined for any other line. */
export function readPrompt(line: string): CommandPlace | undefined {
  const m = PROMPT.exec(line.trim());
  if (!m) return undefined;
  const host = m[2];
  const argv = m[3].trim().split(/\s+/).filter((a) => a !== '');
  if (argv.length === 0) return undefined;
  return placeOf(argv, host);
}

/** placeOf reads a command line (argv) run on `host`. */
export function placeOf(argv: string[], host: string | undefined): CommandPlace {
  const place: CommandPlace = { host };
  let cmd = argv;
  if (basename(cmd[0]) === 'kubectl') {
    const exec = readKubectlExec(cmd.slice(1));
    if (!exec) return place;
    place.pod = exec.pod;
    cmd = exec.command;
  }
  if (cmd.length === 0) return place;
  const program = basename(cmd[0]);
  place.program = program;
  const agentShell = !place.pod;
  if (program === 'tcpdump') {
    const iface = flagValue(cmd, '-i', '--interface');
    if (iface && iface !== 'any') {
      place.point = place.pod ? podPoint(place.pod.namespace, place.pod.name, iface) : host ? hostPoint(host, iface) : undefined;
    }
    if (!place.pod) place.node = host;
  } else if (program === 'pwru') {
    if (agentShell && host) {
      place.point = kernelPoint(host);
      place.node = host;
    }
  } else if ((program === 'cilium' || program === 'cilium-dbg') && agentShell) {
    place.node = host;
  } else if (agentShell) {
    place.node = host;
  }
  return place;
}

function readKubectlExec(args: string[]): { pod: { namespace: string; name: string }; command: string[] } | undefined {
  let namespace = 'default';
  let pod: string | undefined;
  let sawExec = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      if (!sawExec || !pod) return undefined;
      return { pod: { namespace, name: pod.replace(/^pods?\//, '') }, command: args.slice(i + 1) };
    }
    if (a === '-n' || a === '--namespace') namespace = args[++i] ?? namespace;
    else if (a.startsWith('--namespace=')) namespace = a.slice('--namespace='.length);
    else if (/^-n[^-]/.test(a)) namespace = a.slice(2);
    else if (a === '-c' || a === '--container') i++;
    else if (a === 'exec') sawExec = true;
    else if (!a.startsWith('-') && sawExec && !pod) pod = a;
  }
  return undefined;
}

function flagValue(argv: string[], short: string, long: string): string | undefined {
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === short || a === long) return argv[i + 1];
    if (a.startsWith(`${long}=`)) return a.slice(long.length + 1);
    if (a.startsWith(short) && a.length > short.length && !a.startsWith('--')) {
      // tcpdump bundles short flags: -pnei eth0 is not used, but -ieth0 is.
      return a.slice(short.length);
    }
    if (/^-[a-zA-Z]+$/.test(a) && a.endsWith(short.slice(1)) && a.length > 2) return argv[i + 1];
  }
  return undefined;
}

function basename(p: string): string {
  const i = p.lastIndexOf('/');
  return i >= 0 ? p.slice(i + 1) : p;
}
