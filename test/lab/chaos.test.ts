/**
 * `npm run chaos` as CI runs it: 20 trials from a fixed seed (reproduce one with
 * `npm run chaos -- --trials 20 --seed 20261208`), every one handled, nothing left on the lab.
 */
import { chaos } from './chaos.js';
import { describeAsRoot } from './require-root.js';

const SEED = 20261208;

describeAsRoot('chaos: traces under faults and Ctrl-C at drawn moments', () => {
  it('20 trials: each ends in its bound with the right exit code and report, and leaves nothing', async () => {
    const summary = await chaos(20, SEED, (line) => process.stderr.write(`${line}\n`));
    expect(summary).toEqual({ trials: 20, handled: 20, leftovers: 0, failures: [] });
  }, 20 * 60_000);
});
