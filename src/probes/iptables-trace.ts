import type { PlannedProbe } from '../core/plan.js';
import { bounded, killByPidfileArgv, pidfilePath, targetOf, withPidfile, type CommandContext, type ProbeCommand } from './probe-command.js';

/** Every TRACE rule we insert carries this comment prefix plus the run id, so cleanup finds it. */
export const TRACE_COMMENT_PREFIX = 'datapath-';
/** xtables-monitor prints nothing until the first event: alive this long after start counts as ready. */
export const IPTABLES_SETTLE_MS = 500;
export const IPTABLES_MAX_BYTES = 64 * 1024 * 1024;
/** The raw table sees a packet before conntrack; PREROUTING for what arrives, OUTPUT for what the node sends. */
const TRACE_CHAINS = ['PREROUTING', 'OUTPUT'] as const;
const LOCK_WAIT = ['-w', '5'];

/** traceComment: the comment of one run's rules. */
export function traceComment(runId: string): string {
  return `${TRACE_COMMENT_PREFIX}${runId}`;
}

function family(ip: string): 'iptables' | 'ip6tables' {
  return ip.includes(':') ? 'ip6tables' : 'iptables';
}

/** traceRuleSpecs: the rule specs (after -I/-D CHAIN) that TRACE the pair both ways in both chains. */
export function traceRuleSpecs(a: string, b: string, runId: string): { chain: string; spec: string[] }[] {
  const out: { chain: string; spec: string[] }[] = [];
  for (const chain of TRACE_CHAINS) {
    for (const [s, d] of [[a, b], [b, a]]) {
      out.push({ chain, spec: ['-s', s, '-d', d, '-m', 'comment', '--comment', traceComment(runId), '-j', 'TRACE'] });
    }
  }
  return out;
}

/** insertTraceRulesArgv: one `iptables -t raw -I CHAIN ...` per rule. */
export function insertTraceRulesArgv(a: string, b: string, runId: string): string[][] {
  const bin = family(a);
  return traceRuleSpecs(a, b, runId).map((r) => [bin, ...LOCK_WAIT, '-t', 'raw', '-I', r.chain, ...r.spec]);
}

/** deleteTraceRulesArgv: the exact inverse of insertTraceRulesArgv (a rule that is not there fails alone). */
export function deleteTraceRulesArgv(a: string, b: string, runId: string): string[][] {
  const bin = family(a);
  return traceRuleSpecs(a, b, runId).map((r) => [bin, ...LOCK_WAIT, '-t', 'raw', '-D', r.chain, ...r.spec]);
}

/** xtablesMonitorArgv: nftables trace events of the TRACE rules (iptables-nft; legacy logs to the kernel log instead). */
export function xtablesMonitorArgv(): string[] {
  return ['xtables-monitor', '--trace'];
}

/** iptablesTraceCommand: rules in, monitor running, rules always out. */
export function iptablesTraceCommand(probe: PlannedProbe, ctx: CommandContext): ProbeCommand | undefined {
  const target = targetOf(probe, ctx);
  if (!target || !probe.addresses) return undefined;
  const [a, b] = probe.addresses;
  const pidfile = pidfilePath(ctx.runId, probe.id);
  return {
    probe,
    target,
    setup: insertTraceRulesArgv(a, b, ctx.runId),
    argv: withPidfile(pidfile, bounded(ctx.lifetimeS, xtablesMonitorArgv())),
    ready: { kind: 'settle', ms: IPTABLES_SETTLE_MS },
    stop: killByPidfileArgv(pidfile),
    teardown: deleteTraceRulesArgv(a, b, ctx.runId),
    output: 'text',
    format: 'iptables',
    maxBytes: IPTABLES_MAX_BYTES,
  };
}

/** saveRawArgv: the raw table as rules, for cleanup to find TRACE rules left by interrupted runs. */
export function saveRawArgv(v6 = false): string[] {
  return [v6 ? 'ip6tables-save' : 'iptables-save', '-t', 'raw'];
}

const SAFE_TOKEN = /^[A-Za-z0-9_.:/-]+$/;
const OUR_COMMENT = new RegExp(`^${TRACE_COMMENT_PREFIX}[a-z0-9]+$`);

/**
 * leftoverTraceRules reads `iptables-save -t raw` and returns the delete argv of every TRACE rule
 * one of our runs inserted (comment `datapath-<run id>`), optionally of one run only. Rules of
 * anyone else are never touched, whatever they look like.
 */
export function leftoverTraceRules(saved: string, v6 = false, runId?: string): string[][] {
  const out: string[][] = [];
  let table = '';
  for (const raw of saved.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) {
      table = line.slice(1);
      continue;
    }
    if (table !== 'raw' || !line.startsWith('-A ')) continue;
    const tokens = line.split(/\s+/);
    const c = tokens.indexOf('--comment');
    const comment = c >= 0 ? tokens[c + 1]?.replace(/^"(.*)"$/, '$1') : undefined;
    if (!comment || !OUR_COMMENT.test(comment)) continue;
    if (runId !== undefined && comment !== traceComment(runId)) continue;
    if (tokens[tokens.length - 1] !== 'TRACE' || tokens[tokens.length - 2] !== '-j') continue;
    tokens[c + 1] = comment;
    if (!tokens.every((t) => SAFE_TOKEN.test(t))) continue;
    out.push([v6 ? 'ip6tables' : 'iptables', ...LOCK_WAIT, '-t', 'raw', '-D', ...tokens.slice(1)]);
  }
  return out;
}
