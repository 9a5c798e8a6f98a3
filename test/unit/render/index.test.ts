import { isOutputFormat, outputFormats, renderers } from '../../../src/render/index.js';
import { loadSeedLikeReport } from './seed-like-report.js';

describe('render registry', () => {
  it('has one renderer per -o format', () => {
    expect(outputFormats).toEqual(['table', 'wide', 'json', 'yaml', 'mermaid', 'html']);
    for (const format of outputFormats) {
      const out = renderers[format](loadSeedLikeReport(), { color: false });
      expect(out.endsWith('\n')).toBe(true);
      expect(out).not.toContain('\x1b');
    }
  });

  it.each([
    ['table', true], ['wide', true], ['json', true], ['yaml', true], ['mermaid', true], ['html', true],
    ['pcapng', false], ['JSON', false], ['', false], ['toString', false], ['__proto__', false],
  ])('isOutputFormat(%p) is %p', (value, expected) => {
    expect(isOutputFormat(value)).toBe(expected);
  });
});
