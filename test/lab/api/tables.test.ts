import { humanDuration, table } from './tables.js';
import type { KubeObject } from './objects.js';

describe('AGE column', () => {
  it.each([
    [-5000, '<invalid>'],
    [-1000, '0s'],
    [59_000, '59s'],
    [119_000, '119s'],
    [125_000, '2m5s'],
    [600_000, '10m'],
    [179 * 60_000, '179m'],
    [(3 * 60 + 30) * 60_000, '3h30m'],
    [19 * 3_600_000, '19h'],
    [50 * 3_600_000, '2d2h'],
    [400 * 86_400_000, '400d'],
    [3 * 365 * 86_400_000, '3y'],
  ])('%d ms -> %s', (ms, text) => expect(humanDuration(ms)).toBe(text));
});

describe('pod Table', () => {
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'probe', namespace: 'default', uid: 'u', creationTimestamp: new Date().toISOString() },
    spec: { nodeName: 'bpf1', containers: [{ name: 'c' }] },
    status: { phase: 'Pending', containerStatuses: [{ ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] },
  };

  it('prints the waiting reason as STATUS and carries the object metadata in the row', () => {
    const t = table('pods', [pod], '9', 'Metadata') as { rows: { cells: unknown[]; object: { kind: string } }[] };
    expect(t.rows[0].cells).toEqual(['probe', '0/1', 'ContainerCreating', 0, '0s', '<none>', 'bpf1', '<none>', '<none>']);
    expect(t.rows[0].object.kind).toBe('PartialObjectMetadata');
  });
});
