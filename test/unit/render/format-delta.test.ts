import { formatDelta } from '../../../src/render/format-delta.js';

describe('formatDelta', () => {
  it.each([
    [null, ''],
    [0, '+0µs'],
    [4, '+4µs'],
    [0.4, '+0µs'],
    [999, '+999µs'],
    [999.6, '+1.0ms'],
    [1234, '+1.2ms'],
    [12_345, '+12.3ms'],
    [99_960, '+100ms'],
    [350_000, '+350ms'],
    [1_200_943, '+1.20s'],
    [12_500_000, '+12.5s'],
    [-7, '-7µs'],
    [Number.NaN, ''],
  ])('%p µs -> %p', (us, expected) => {
    expect(formatDelta(us)).toBe(expected);
  });
});
