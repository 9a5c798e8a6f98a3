import { LineSplitter } from '../../../src/app/line-splitter.js';

/** Splits `bytes` cut into chunks at every given offset, as a file read would deliver them. */
function splitCut(bytes: Uint8Array, cuts: number[]): string[] {
  const splitter = new LineSplitter();
  const lines: string[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    splitter.push(bytes.subarray(from, cut), (line) => lines.push(line));
    from = cut;
  }
  splitter.end((line) => lines.push(line));
  return lines;
}

/** What the splitter must give: TextDecoder's text cut at newlines, a `\r` before one dropped. */
function expected(bytes: Uint8Array): string[] {
  const lines = new TextDecoder().decode(bytes).split('\n').map((l, i, all) => (i < all.length - 1 && l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function decodeCut(bytes: Uint8Array, cuts: number[]): string {
  return splitCut(bytes, cuts).join('\n');
}

describe('LineSplitter', () => {
  const utf8 = new TextEncoder();

  it('gives ASCII tool output back unchanged', () => {
    const line = 'CPU 02: MARK 0x0 FROM 2836 DEBUG: CT verdict: New, revnat=0\n';
    expect(splitCut(utf8.encode(line.repeat(3)), [10, 61])).toEqual(Array(3).fill(line.slice(0, -1)));
  });

  it('decodes UTF-8 text (a shell prompt in Chinese) cut inside a character, then ASCII after it', () => {
    const text = '[root@节点1 ~]# tcpdump -i lxc\n09:00:16.016126 IP 10.0.1.135 > 10.0.1.180: ICMP echo request\n';
    const bytes = utf8.encode(text);
    const inside = bytes.indexOf(0xe8) + 1; // the second byte of 节
    for (const cuts of [[inside], [inside, inside + 1], [inside + 2, 40], [1, inside, bytes.length - 5]]) {
      expect(splitCut(bytes, cuts)).toEqual(expected(bytes));
    }
  });

  it('turns a character cut off at the end of the file into U+FFFD, as TextDecoder does', () => {
    const bytes = utf8.encode('tail 节');
    const cut = bytes.subarray(0, bytes.length - 1);
    expect(decodeCut(cut, [3])).toBe(new TextDecoder().decode(cut));
    expect(decodeCut(cut, [3])).toBe('tail \uFFFD');
  });

  it('cuts lines at every chunk boundary the same way, CRLF included', () => {
    const bytes = utf8.encode('a\r\nb节\r\n\r\nccc\ndd\r\n');
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j++) expect(splitCut(bytes, [i, j])).toEqual(expected(bytes));
    }
  });

  it('replaces invalid bytes between ASCII chunks exactly like TextDecoder', () => {
    const bytes = new Uint8Array([0x61, 0xe8, 0x62, 0x0a, 0x63]);
    expect(decodeCut(bytes, [2, 3])).toBe(new TextDecoder().decode(bytes));
  });
});
