/**
 * The lab's life cycle: `up` builds in seconds and refuses a second `up`; `status` says what is
 * up; `down` removes every namespace, process and file, also after a crashed `up` that left no
 * state. Times of `up` and `down` are printed so they can be reported.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describeAsRoot } from './require-root.js';
import { ping, startLab, stopLab, type TestLab } from './lab-harness.js';
import { labDown, labStatus, labUp } from './kernel/lab.js';
import { listNetns } from './kernel/network.js';
import { netnsOfInstance } from './kernel/topology.js';

function labProcessesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) pids.push(Number(entry));
    } catch {
      // exited
    }
  }
  return pids;
}

describeAsRoot('lab life cycle', () => {
  let lab: TestLab | undefined;

  afterAll(async () => {
    await stopLab(lab).catch(() => undefined);
  }, 30000);

  it('brings legacy + vxlan up in seconds, refuses a second up, reports status, and down leaves nothing', async () => {
    lab = await startLab({ mode: 'legacy', tunnel: 'vxlan' });
    const l = lab;
    expect(l.up.timings.total).toBeLessThan(30);
    expect(ping(l.pod('same').netns!, l.pod('web').ip)).toContain('1 received');

    await expect(labUp({ dir: l.dir, instance: l.instance, api: false })).rejects.toThrow(/a lab is already up \(legacy, tunnel vxlan/);

    const status = labStatus({ dir: l.dir, instance: l.instance });
    expect(status.up).toBe(true);
    expect(status.lines[0]).toContain('mode legacy, tunnel vxlan');
    expect(status.lines.join('\n')).toMatch(/pod default\/same 10\.0\.1\.135 lxc\w{11} \(ifindex \d+\) endpoint 2836 identity 31009/);

    const down = await labDown({ dir: l.dir, instance: l.instance });
    process.stderr.write(`lab up ${l.up.timings.total} s, down ${down.seconds} s\n`);
    expect(down.removedNetns.length).toBe(6);
    expect(listNetns().filter((n) => netnsOfInstance(n, l.instance))).toEqual([]);
    expect(existsSync(l.dir)).toBe(false);
    expect(labProcessesUsing(l.dir)).toEqual([]);
    expect(labStatus({ dir: l.dir, instance: l.instance }).lines).toEqual(['no lab is up']);
    rmSync(dirname(l.dir), { recursive: true, force: true });
    lab = undefined;
  }, 60000);

  it('cleans up after a crashed up: no state.json, agents still running, namespaces left', async () => {
    lab = await startLab({ mode: 'bpf', tunnel: 'disabled' });
    const l = lab;
    // What a crash in the middle of up leaves: namespaces and agents, but no state.json yet.
    rmSync(join(l.dir, 'state.json'));
    expect(labProcessesUsing(l.dir).length).toBeGreaterThan(0);
    expect(labStatus({ dir: l.dir, instance: l.instance }).lines[0]).toMatch(/^a partial lab is left \(6 namespaces/);
    await expect(labUp({ dir: l.dir, instance: l.instance, api: false })).rejects.toThrow(/not fully removed/);

    const down = await labDown({ dir: l.dir });
    expect(down.killedPids.length).toBeGreaterThanOrEqual(2);
    expect(listNetns().filter((n) => netnsOfInstance(n, l.instance))).toEqual([]);
    expect(labProcessesUsing(l.dir)).toEqual([]);
    expect(existsSync(l.dir)).toBe(false);
    rmSync(dirname(l.dir), { recursive: true, force: true });
    lab = undefined;
  }, 60000);
});
