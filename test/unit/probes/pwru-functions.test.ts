import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileCatalog } from '../../../src/adapters/files.js';
import { analyze } from '../../../src/app/analyze.js';
import { createPwruContext, parsePwruLine } from '../../../src/core/parse/pwru.js';
import { pwruArgv, pwruFunctionFilter, PWRU_RULE_FUNCTIONS } from '../../../src/probes/pwru.js';

/**
 * pwru attaches only to the functions the report's rules read (src/probes/pwru.ts): a pwru so
 * filtered prints, of each skb, exactly the lines of those functions. Every trace set below,
 * pwru's output with every function (the lab's, from each datapath mode, and the seed's), must
 * give the same report with only those lines: the same paths, verdicts, outcomes, conclusions,
 * evidence and drops. The live runs of both on the lab's scenarios are test/lab/pwru-functions.test.ts.
 */
const SETS: [name: string, dir: string, files: RegExp | null][] = [
  ...readdirSync('test/fixtures/lab-paths', { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d): [string, string, null] => [`lab ${d.name}`, join('test/fixtures/lab-paths', d.name), null]),
  ['seed (pwru v0.0.2, same node)', 'test/fixtures/seed', /^(tcpdump-|cilium-monitor-v|pwru-v0\.0\.2-src-|cilium-endpoint-list|ethtool-)/],
];

/** What a pwru attached only to the given functions would have printed of these lines: the other functions' event lines go. */
function onlyFunctions(text: string, keep: (func: string) => boolean): string {
  let ctx = createPwruContext();
  return text
    .split('\n')
    .filter((line) => {
      const out = parsePwruLine(line, ctx);
      ctx = out.ctx;
      return out.result.kind !== 'event' || keep(out.result.event.func);
    })
    .join('\n');
}

async function report(dir: string) {
  const r = await analyze({ paths: [dir], points: [], endpointFiles: [], maxPackets: 10 }, fileCatalog);
  return r.flows.map((f) => ({
    key: `${f.protocol} ${f.src} -> ${f.dst} ${f.direction}`,
    path: f.path,
    verdict: f.verdict,
    outcome: f.outcome,
    outcomeReason: f.outcomeReason,
    conclusions: f.conclusions,
    evidence: f.evidence,
    dropPoint: f.dropPoint,
  }));
}

/** A copy of the set's files (those `pick` names), each pwru output cut to the rule functions' lines when `rules`. */
function copySet(dir: string, pick: RegExp | null, rules: boolean): string {
  const keep = new Set(PWRU_RULE_FUNCTIONS);
  const out = mkdtempSync(join(tmpdir(), 'pwru-functions-'));
  for (const name of readdirSync(dir).filter((n) => !n.endsWith('.md') && !n.endsWith('.ts') && (!pick || pick.test(n)))) {
    const bytes = readFileSync(join(dir, name));
    writeFileSync(join(out, name), rules && /pwru/.test(name) ? onlyFunctions(bytes.toString('utf8'), (f) => keep.has(f)) : bytes);
  }
  return out;
}

describe('pwru attached only to the functions the report reads', () => {
  it.each(SETS)('%s: the same conclusions as with every function', async (_name, dir, pick) => {
    const [allDir, rulesDir] = [copySet(dir, pick, false), copySet(dir, pick, true)];
    try {
      const all = await report(allDir);
      const rules = await report(rulesDir);
      expect(all.length).toBeGreaterThan(0);
      // pwru is evidence in the set: of a path (`pwru on NODE ...`) or of where the kernel freed the skb.
      expect(all.some((f) => f.evidence.some((e) => e.because.some((b) => b.startsWith('pwru ') || /^(sk_skb_reason_drop|kfree_skb)\(/.test(b))))).toBe(true);
      expect(rules).toEqual(all);
    } finally {
      for (const d of [allDir, rulesDir]) rmSync(d, { recursive: true, force: true });
    }
  });

  it('the filter is pwru --filter-func syntax that matches exactly those functions (whole names, as pwru GetFuncs keeps them)', () => {
    const re = new RegExp(pwruFunctionFilter());
    const whole = (f: string) => re.exec(f)?.[0] === f;
    expect(PWRU_RULE_FUNCTIONS.every(whole)).toBe(true);
    for (const other of ['ip_rcv_core', 'ip_output2', 'xip_rcv', 'dev_queue_xmit_nit', 'kfree_skb']) expect(whole(other)).toBe(false);
    expect(pwruArgv(5, ['icmp'])).toEqual(['pwru', '--output-meta', '--output-tuple', '--filter-track-skb', '--filter-func', pwruFunctionFilter(), '--output-limit-lines', '5', 'icmp']);
    expect(pwruArgv(5, ['icmp'], 'all')).toEqual(['pwru', '--output-meta', '--output-tuple', '--filter-track-skb', '--output-limit-lines', '5', 'icmp']);
  });
});
