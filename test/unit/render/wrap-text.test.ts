import { wrapText, wrapToken } from '../../../src/render/wrap-text.js';

describe('wrapText', () => {
  it('breaks at spaces, never past the width', () => {
    expect(wrapText('CT new; dst 10.0.1.180 -> identity 37483', 16)).toEqual(['CT new; dst', '10.0.1.180 ->', 'identity 37483']);
  });

  it('cuts a word longer than the width instead of dropping any of it', () => {
    const lines = wrapText('skb 0xffff9afcb4519b00 seen', 8);
    expect(lines).toEqual(['skb', '0xffff9a', 'fcb4519b', '00 seen']);
    expect(lines.every((l) => l.length <= 8)).toBe(true);
  });

  it('returns one empty line for empty text', () => {
    expect(wrapText('', 10)).toEqual(['']);
  });
});

describe('wrapToken', () => {
  it('keeps a token that fits on one line', () => {
    expect(wrapToken('host:bpf1/eth0', 20)).toEqual(['host:bpf1/eth0']);
  });

  it('breaks a point id after its separators first', () => {
    expect(wrapToken('pod:default/cni-6vf5d/eth0', 14)).toEqual(['pod:default/', 'cni-6vf5d/eth0']);
  });

  it('cuts inside a piece only when the piece alone is too wide, losing nothing', () => {
    const lines = wrapToken('host:bpf1/lxcda6f5295b4b7', 10);
    expect(lines).toEqual(['host:bpf1/', 'lxcda6f529', '5b4b7']);
    expect(lines.join('')).toBe('host:bpf1/lxcda6f5295b4b7');
  });
});
