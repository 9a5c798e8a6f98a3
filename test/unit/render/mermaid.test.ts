import { escapeMermaidText, renderMermaid } from '../../../src/render/mermaid.js';
import { expectGolden } from '../../helpers/golden.js';
import { goldenPath, loadSeedLikeReport } from './seed-like-report.js';

/** The contents of each ```mermaid fence. */
function blocks(markdown: string): string[] {
  return [...markdown.matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m) => m[1]);
}

describe('renderMermaid', () => {
  it('matches the golden diagrams', () => {
    expectGolden(renderMermaid(loadSeedLikeReport(), { color: false }), goldenPath('mermaid.txt'));
  });

  it('writes one headed sequenceDiagram per flow', () => {
    const report = loadSeedLikeReport();
    const out = renderMermaid(report, { color: false });
    const diagrams = blocks(out);
    expect(diagrams).toHaveLength(report.flows.length);
    for (const d of diagrams) expect(d.startsWith('sequenceDiagram\n')).toBe(true);
    expect(out.startsWith('### ICMP 10.0.1.135 (default/same) -> 10.0.1.180 (default/cni-6vf5d), request, bpf1, delivered\n\n```mermaid\n')).toBe(true);
  });

  it('leaves nothing mermaid would choke on: no raw ; # % " < > & and no control character', () => {
    for (const d of blocks(renderMermaid(loadSeedLikeReport(), { color: false }))) {
      // The text of each statement: what follows `participant Pn as` or the first `: `.
      const texts = d.split('\n').slice(1).filter((l) => l !== '').map((l) => l.replace(/^ {4}(participant \w+ as |[^:]*: )/, ''));
      expect(texts).toHaveLength(d.split('\n').length - 2);
      for (const text of texts) expect(text.replace(/#(?:\d+|[a-z]+);/g, '').replace(/<br\/>/g, '')).not.toMatch(/[;#%"<>&]/);
      expect(d).not.toMatch(/[\x00-\x09\x0b-\x1f]/);
    }
  });

  it('declares the points in path order with safe aliases, and draws the first packet hop by hop', () => {
    const d = blocks(renderMermaid(loadSeedLikeReport(), { color: false }))[0];
    expect(d).toContain('    participant P1 as pod:default/same/eth0\n    participant P2 as host:bpf1/lxcda6f5295b4b7\n');
    expect(d).toContain('    participant P6 as pod:default/cni-6vf5d/eth0\n');
    expect(d).toContain('    Note over P1: +0µs tcpdump<br/>echo request id 20480 seq 0, length 64\n');
    expect(d).toContain('    P1->>P2: +4µs tcpdump<br/>same packet entering the host\n');
    expect(d).toContain('    P2-->>P3: monitor (by flow)<br/>CT new#59; dst 10.0.1.180 -#gt; identity 37483#59;');
    expect(d).toContain('    Note over P1,P6: not seen: host:bpf1/lxcf9d0a91de5fb\n');
    expect(d).toContain('    Note over P1,P6: path: redirect-peer, verdict: delivered\n');
  });

  it('ends a dropped flow with a cross at the drop point', () => {
    const d = blocks(renderMermaid(loadSeedLikeReport(), { color: false }))[3];
    expect(d).toMatch(/^ {4}P5--xP6: monitor \(by flow\)<br\/>xx drop \(Policy denied\)/m);
    expect(d).toContain('verdict: dropped at cilium:bpf2/1456 (Policy denied)');
  });

  it('gives a flow nothing saw its two ends as participants, and a one-point flow a one-point note', () => {
    const report = loadSeedLikeReport();
    const seenOnce = { ...report.flows[0], seenAt: ['pod:default/same/eth0'], packets: [{ key: 'k', hops: [report.flows[0].packets[0].hops[0]] }] };
    report.flows = [{ ...report.flows[3], packets: [], seenAt: [], verdict: 'lost' }, seenOnce];
    const [none, one] = blocks(renderMermaid(report, { color: false }));
    expect(none).toContain('    participant S as 10.0.1.135:53211 (default/same)\n    participant D as 10.0.2.77:5432 (default/locked-db)\n');
    expect(none).toContain('    Note over S,D: no packet of this flow was seen\n');
    expect(one).toContain('    Note over P1: packet k\n');
  });

  it('says so when there are no flows', () => {
    const report = loadSeedLikeReport();
    report.flows = [];
    expect(renderMermaid(report, { color: false })).toBe('_No flows in this report._\n');
  });
});

describe('escapeMermaidText', () => {
  it('turns every special character into an entity code, each exactly once', () => {
    expect(escapeMermaidText('a;b#c%d"e<f>g&h')).toBe('a#59;b#35;c#37;d#quot;e#lt;f#gt;g#amp;h');
    expect(escapeMermaidText('#59;')).toBe('#35;59#59;');
  });
});
