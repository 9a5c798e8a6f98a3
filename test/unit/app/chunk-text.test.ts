import { ChunkText } from '../../../src/app/chunk-text.js';

/** Decodes `bytes` cut into chunks at every given offset, as a file read would deliver them. */
function decodeCut(bytes: Uint8Array, cuts: number[]): string {
  const text = new ChunkText();
  let out = '';
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    out += text.decode(bytes.subarray(from, cut));
    from = cut;
  }
  return out + text.end();
}

describe('ChunkText', () => {
  const utf8 = new TextEncoder();

  it('gives ASCII tool output back unchanged', () => {
    const line = 'CPU 02: MARK 0x0 FROM 2836 DEBUG: CT verdict: New, revnat=0\n';
    expect(decodeCut(utf8.encode(line.repeat(3)), [10, 61])).toBe(line.repeat(3));
  });

  it('decodes UTF-8 text (a shell prompt in Chinese) cut inside a character, then ASCII after it', () => {
    const text = '[root@节点1 ~]# tcpdump -i lxc\n09:00:16.016126 IP 10.0.1.135 > 10.0.1.180: ICMP echo request\n';
    const bytes = utf8.encode(text);
    const inside = bytes.indexOf(0xe8) + 1; // the second byte of 节
    for (const cuts of [[inside], [inside, inside + 1], [inside + 2, 40], [1, inside, bytes.length - 5]]) {
      expect(decodeCut(bytes, cuts)).toBe(text);
    }
  });

  it('turns a character cut off at the end of the file into U+FFFD, as TextDecoder does', () => {
    const bytes = utf8.encode('tail 节');
    const cut = bytes.subarray(0, bytes.length - 1);
    expect(decodeCut(cut, [3])).toBe(new TextDecoder().decode(cut));
    expect(decodeCut(cut, [3])).toBe('tail \uFFFD');
  });

  it('replaces invalid bytes between ASCII chunks exactly like TextDecoder', () => {
    const bytes = new Uint8Array([0x61, 0xe8, 0x62, 0x0a, 0x63]);
    expect(decodeCut(bytes, [2, 3])).toBe(new TextDecoder().decode(bytes));
  });
});
