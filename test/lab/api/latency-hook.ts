/**
 * The API server's side of the lab's latency model (test/lab/latency.ts): the waits a request, an
 * exec's set-up and a created pod's start cost on the profile the lab was brought up with
 * (state.json `latency`). Timers only: the server keeps serving other requests meanwhile.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IMAGES_PULLED_FILE, latencyProfile, pullMs, waitMs, type LatencyProfile } from '../latency.js';
import type { LabState } from '../state.js';

/** A kubelet event of a starting pod, at the moment it happens (reason and message as the kubelet words them). */
export interface PodStartEvent {
  reason: 'Scheduled' | 'Pulling' | 'Pulled' | 'Created' | 'Started';
  message: string;
}

export class LatencyHook {
  /** Images pulled per node (a node pulls an image once); kept in the lab directory when there is one, so a restarted server remembers them until `down`. */
  private readonly pulled = new Map<string, Set<string>>();
  /** The kubelet pulls one image at a time per node (serializeImagePulls, true by default). */
  private readonly pulling = new Map<string, Promise<void>>();

  constructor(private readonly state: () => LabState) {}

  private get pulledFile(): string | undefined {
    const dir = this.state().dir;
    return dir ? join(dir, IMAGES_PULLED_FILE) : undefined;
  }

  /** The node's pulled images, as the file says (deleting it makes every node forget, as new nodes would). */
  private pulledOn(node: string): Set<string> {
    const file = this.pulledFile;
    if (file) {
      let saved: Record<string, string[]> = {};
      try {
        saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string[]>;
      } catch {
        // none pulled yet
      }
      this.pulled.clear();
      for (const [n, images] of Object.entries(saved)) this.pulled.set(n, new Set(images));
    }
    let have = this.pulled.get(node);
    if (!have) this.pulled.set(node, (have = new Set()));
    return have;
  }

  private remember(node: string, image: string): void {
    this.pulledOn(node).add(image);
    const file = this.pulledFile;
    if (file) writeFileSync(file, `${JSON.stringify(Object.fromEntries([...this.pulled].map(([n, images]) => [n, [...images]])))}\n`);
  }

  get profile(): LatencyProfile {
    return latencyProfile(this.state().latency);
  }

  /** Every API request, before it is answered. */
  request(): Promise<void> {
    return waitMs(this.profile.apiRequestMs);
  }

  /** An exec: its request, then the stream's set-up through the kubelet, before the command starts. */
  execSetup(): Promise<void> {
    const p = this.profile;
    return waitMs(p.apiRequestMs + p.execSetupMs);
  }

  /**
   * A created pod's way to Running on its node: each image it lacks is pulled (after the node's
   * pulls before it), then its containers start. `event` is told each kubelet event as it
   * happens; resolves once the containers run. Without latency it resolves after `minimumMs`.
   */
  async podStart(pod: string, node: string, images: string[], minimumMs: number, event: (e: PodStartEvent) => void): Promise<void> {
    const p = this.profile;
    event({ reason: 'Scheduled', message: `Successfully assigned ${pod} to ${node}` });
    for (const image of new Set(images)) {
      const ms = p.name === 'none' ? 0 : pullMs(p, image);
      if (ms === 0 || this.pulledOn(node).has(image)) {
        event({ reason: 'Pulled', message: `Container image "${image}" already present on machine` });
        continue;
      }
      const queued = performance.now();
      const before = this.pulling.get(node) ?? Promise.resolve();
      const pull = before.then(async () => {
        if (this.pulledOn(node).has(image)) return;
        event({ reason: 'Pulling', message: `Pulling image "${image}"` });
        await waitMs(ms);
        this.remember(node, image);
        const total = (performance.now() - queued) / 1000;
        event({ reason: 'Pulled', message: `Successfully pulled image "${image}" in ${(ms / 1000).toFixed(3)}s (${total.toFixed(3)}s including waiting)` });
      });
      this.pulling.set(node, pull);
      await pull;
    }
    await waitMs(Math.max(minimumMs, p.podStartMs));
    event({ reason: 'Created', message: 'Created container' });
    event({ reason: 'Started', message: 'Started container' });
  }
}
