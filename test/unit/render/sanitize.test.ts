import { sanitizeReport, sanitizeTerminalText } from '../../../src/render/sanitize.js';
import { loadSeedLikeReport } from './seed-like-report.js';

describe('sanitizeTerminalText', () => {
  it.each([
    ['plain text stays as it is', 'echo request id 20480, +4µs', 'echo request id 20480, +4µs'],
    ['ESC of a colour sequence', '\x1b[31mping\x1b[0m', '\\x1b[31mping\\x1b[0m'],
    ['carriage return that would overwrite the line', 'ok\rFAKE', 'ok\\rFAKE'],
    ['newline that would forge a report line', 'a\nverdict: delivered', 'a\\nverdict: delivered'],
    ['tab becomes a space so columns stay aligned', 'a\tb', 'a b'],
    ['BEL ending an OSC title sequence', '\x1b]0;owned\x07', '\\x1b]0;owned\\x07'],
    ['NUL and DEL', 'a\x00b\x7f', 'a\\x00b\\x7f'],
    ['8-bit CSI (C1)', 'a\u009b2Jb', 'a\\x9b2Jb'],
    ['right-to-left override', 'lxc\u202eabc', 'lxc\\u202eabc'],
  ])('%s', (_name, input, expected) => {
    expect(sanitizeTerminalText(input)).toBe(expected);
  });
});

describe('sanitizeReport', () => {
  it('escapes every string of the report, facts keys included, without touching the original', () => {
    const report = loadSeedLikeReport();
    report.flows[0].packets[0].hops[0].facts = { ['ke\x1by']: 'v\r' };
    report.endpoints[0].pod = 'default/\x1b[2Jsame';
    const before = JSON.stringify(report);

    const safe = sanitizeReport(report);

    expect(JSON.stringify(report)).toBe(before);
    expect(safe.flows[0].packets[0].hops[0].facts).toEqual({ 'ke\\x1by': 'v\\r' });
    expect(safe.endpoints[0].pod).toBe('default/\\x1b[2Jsame');
    const strings: string[] = [];
    JSON.stringify(safe, (key, value: unknown) => {
      strings.push(key);
      if (typeof value === 'string') strings.push(value);
      return value;
    });
    expect(strings.filter((s) => /[\u0000-\u001f\u007f-\u009f]/.test(s))).toEqual([]);
    expect(strings).toContain('\\r\\x1b[2K586 / 586 [-------------------------] 100.00% 34 p/s\\x1b[0m');
    expect(safe.schemaVersion).toBe(1);
    expect(safe.flows[0].packets[0].hops[1].deltaUs).toBe(4);
  });
});
