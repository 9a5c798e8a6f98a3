import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze } from '../../../src/app/analyze.js';
import { fileCatalog } from '../../../src/adapters/files.js';
import { CommentHeader, blankCommentHeader } from '../../../src/core/analyze/comment-header.js';

/**
 * A provenance header above a tool's output (`# source:` ... `# ---`, as the real fixtures and the
 * corpus of transcripts are filed) is metadata, not lines of the tool: it is neither understood
 * nor not understood. `#` lines without the closing `# ---` (a root prompt, a comment inside the
 * output) stay the input's own lines, and the real not-understood lines keep their file line numbers.
 */
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'comment-header-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const counts = async (paths: string[]) =>
  (await analyze({ paths, points: [], endpointFiles: [], maxPackets: 10 }, fileCatalog)).inputs.map((i) => ({
    name: i.name.slice(i.name.lastIndexOf('/') + 1),
    tool: i.tool,
    lines: i.lines,
    understood: i.understood,
    notUnderstood: i.notUnderstood,
    samples: (i.notUnderstoodSamples ?? []).map((s) => [s.line, s.text]),
  }));

describe('comment header above a tool output', () => {
  it('is not counted for stream inputs (tcpdump, monitor, pwru, hubble, iptables) nor for data inputs (status); a real line not understood keeps its line number', async () => {
    expect(
      await counts([
        'test/fixtures/clock-offset/pod-eth0-utc.txt',
        'test/fixtures/cilium-monitor/blog-ko-iptables-mark-after-host.txt',
        'test/fixtures/pwru/blog-ru-2025-docker-output-tuple-icmp.txt',
        'test/fixtures/hubble/danehans-ciliumcon-2024-ipv6-only-policy-verdict-ingress-denied-dropped.txt',
        'test/fixtures/iptables-trace/kernel-dmesg-wHT-output-and-input.txt',
        'test/fixtures/cilium-status/blog-podman-v1.16.5-agent-status.txt',
      ]),
    ).toEqual([
      { name: 'pod-eth0-utc.txt', tool: 'tcpdump', lines: 9, understood: 9, notUnderstood: 0, samples: [] },
      { name: 'blog-ko-iptables-mark-after-host.txt', tool: 'monitor', lines: 2, understood: 2, notUnderstood: 0, samples: [] },
      { name: 'blog-ru-2025-docker-output-tuple-icmp.txt', tool: 'pwru', lines: 21, understood: 21, notUnderstood: 0, samples: [] },
      { name: 'danehans-ciliumcon-2024-ipv6-only-policy-verdict-ingress-denied-dropped.txt', tool: 'hubble', lines: 7, understood: 7, notUnderstood: 0, samples: [] },
      // The '...' the author pasted above the trace is the one line of it not understood: line 6 of the file.
      { name: 'kernel-dmesg-wHT-output-and-input.txt', tool: 'iptables', lines: 7, understood: 6, notUnderstood: 1, samples: [[6, '...']] },
      { name: 'blog-podman-v1.16.5-agent-status.txt', tool: 'status', lines: 28, understood: 28, notUnderstood: 0, samples: [] },
    ]);
  });

  it('hides nothing else: # lines not closed by # --- stay lines of the input, understood or not', async () => {
    const capture = readFileSync('test/fixtures/clock-offset/pod-eth0-utc.txt', 'utf8').split('\n').slice(5).join('\n');
    writeFileSync(join(dir, 'unclosed.txt'), `# source: a header without its end\n# note: so these are the input's lines\n${capture}`);
    writeFileSync(join(dir, 'later.txt'), `${capture}# source: not at the top\n# ---\n`);
    expect(await counts([join(dir, 'later.txt'), join(dir, 'unclosed.txt')])).toEqual([
      { name: 'later.txt', tool: 'tcpdump', lines: 11, understood: 9, notUnderstood: 2, samples: [[11, '# source: not at the top'], [12, '# ---']] },
      { name: 'unclosed.txt', tool: 'tcpdump', lines: 11, understood: 9, notUnderstood: 2, samples: [[1, '# source: a header without its end'], [2, "# note: so these are the input's lines"]] },
    ]);
  });

  it('CommentHeader passes every line that is not the header, in order; blankCommentHeader keeps line numbers', () => {
    const run = (lines: string[]) => {
      const h = new CommentHeader();
      const out: string[] = [];
      for (const l of lines) h.push(l, (x) => out.push(x));
      h.end((x) => out.push(x));
      return [h.lines, out];
    };
    expect([
      run(['', '# source: x', '#  tool-version: y', '# ---', 'a', '# ---', 'b']),
      run(['# source: x', 'a', '# ---', 'b']),
      run(['# a', '# b']),
      run(['root@n1:~# tcpdump -i eth0', '# ---']),
      run(Array.from({ length: 70 }, () => '#').concat(['# ---', 'x'])),
    ]).toEqual([
      [4, ['a', '# ---', 'b']],
      [0, ['# source: x', 'a', '# ---', 'b']],
      [0, ['# a', '# b']],
      [0, ['root@n1:~# tcpdump -i eth0', '# ---']],
      [0, [...Array.from({ length: 70 }, () => '#'), '# ---', 'x']],
    ]);
    expect([blankCommentHeader('# s\n# ---\nA\nB\n'), blankCommentHeader('# s\nA\n'), blankCommentHeader('# s\n# ---')]).toEqual(['\n\nA\nB\n', '# s\nA\n', '\n\n']);
  });
});
