import { jest } from '@jest/globals';
import { CAPTURE_IMAGE, PWRU_IMAGE } from '../latency.js';
import type { LabState } from '../state.js';
import { LatencyHook, type PodStartEvent } from './latency-hook.js';

/** Seconds (fake time) from the call until each pod runs, and the events each saw. */
async function startPods(hook: LatencyHook, pods: [node: string, image: string][]): Promise<{ runningS: number[]; events: string[][] }> {
  const t0 = Date.now();
  const runningS: number[] = [];
  const events: string[][] = pods.map(() => []);
  const all = Promise.all(
    pods.map(([node, image], i) =>
      hook.podStart(`default/p${i}`, node, [image], 200, (e: PodStartEvent) => events[i].push(`${e.reason} ${e.message.replace(/ in [\d.]+s \([\d.]+s including waiting\)/, '')}`)).then(() => {
        runningS[i] = (Date.now() - t0) / 1000;
      }),
    ),
  );
  await jest.advanceTimersByTimeAsync(60_000);
  await all;
  return { runningS, events };
}

describe('the API server latency hook', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const lab = (latency?: 'cloud' | 'none') => ({ latency }) as LabState;

  it('cloud: the first pod pulls its image (4 s) then starts (1.5 s); a node pulls one image at a time; a pulled image is cached on its node only', async () => {
    const hook = new LatencyHook(() => lab('cloud'));
    const first = await startPods(hook, [
      ['bpf1', CAPTURE_IMAGE],
      ['bpf1', PWRU_IMAGE],
      ['bpf2', CAPTURE_IMAGE],
    ]);
    // bpf1: netshoot 4 s, then pwru 1.5 s after it; bpf2 pulls on its own.
    expect(first.runningS).toEqual([5.5, 7, 5.5]);
    expect(first.events[1]).toEqual([
      'Scheduled Successfully assigned default/p1 to bpf1',
      `Pulling Pulling image "${PWRU_IMAGE}"`,
      `Pulled Successfully pulled image "${PWRU_IMAGE}"`,
      'Created Created container',
      'Started Started container',
    ]);
    const second = await startPods(hook, [
      ['bpf1', CAPTURE_IMAGE],
      ['bpf2', PWRU_IMAGE],
    ]);
    expect(second.runningS).toEqual([1.5, 3]);
    expect(second.events[0][1]).toBe(`Pulled Container image "${CAPTURE_IMAGE}" already present on machine`);
  });

  it('none (and a lab from before the model): no pull, the pod runs after the minimum', async () => {
    for (const latency of ['none', undefined] as const) {
      const hook = new LatencyHook(() => lab(latency));
      const r = await startPods(hook, [['bpf1', CAPTURE_IMAGE]]);
      expect(r.runningS).toEqual([0.2]);
      expect(r.events[0]).not.toContainEqual(expect.stringMatching(/^Pulling/));
    }
  });

  it('requests and exec set-ups wait as the profile says', async () => {
    for (const [latency, requestMs, execMs] of [['cloud', 25, 175], ['none', 0, 0]] as const) {
      const hook = new LatencyHook(() => lab(latency));
      const t0 = Date.now();
      const waits = [hook.request().then(() => Date.now() - t0), hook.execSetup().then(() => Date.now() - t0)];
      await jest.advanceTimersByTimeAsync(1000);
      expect(await Promise.all(waits)).toEqual([requestMs, execMs]);
    }
  });
});
