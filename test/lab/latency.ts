/**
 * The lab's latency model (`lab up --latency cloud|none`): what a managed cloud cluster makes a
 * trace wait for, applied as waits (timers, never CPU) by the API server (test/lab/api/latency-hook.ts)
 * and the emulated tools (pwru attaching its probes, cilium monitor connecting to its agent).
 * `none` (the default) waits for nothing: the lab as fast as this machine makes it.
 *
 * The figures and where they come from are in test/lab/README.md ("Latency model"). The bench
 * (bench/critical-path.ts) computes a trace's critical path from the same profile.
 */
export type LatencyProfileName = 'none' | 'cloud';
export const LATENCY_PROFILES: readonly LatencyProfileName[] = ['none', 'cloud'];

export interface LatencyProfile {
  name: LatencyProfileName;
  /** Every API request (also an exec's upgrade request) before the server answers it. */
  apiRequestMs: number;
  /** An exec stream's set-up (apiserver -> kubelet -> runtime) after its upgrade request, before the command starts. */
  execSetupMs: number;
  /** A created pod from scheduling to its containers started, images present. */
  podStartMs: number;
  /** First pull of an image on a node, by image; then cached on that node until `lab down`. */
  imagePullMs: Record<string, number>;
  /** The pull of an image the table does not name (the lab's own pods' images are present on every node). */
  otherImagePullMs: number;
  /** pwru: attaching its probe to one kernel function. */
  pwruAttachMsPerFunction: number;
  /** cilium monitor: connecting to the agent's monitor socket before it listens. */
  monitorConnectMs: number;
}

/** In the lab directory: the images each node has pulled (the API server's; the bench deletes it to start from cold nodes). */
export const IMAGES_PULLED_FILE = 'images-pulled.json';

/** The images the plugin's probe pods use by default (src/app/probe-pods.ts). */
export const CAPTURE_IMAGE = 'docker.io/nicolaka/netshoot:v0.13';
export const PWRU_IMAGE = 'docker.io/cilium/pwru:v1.0.9';

const NONE: LatencyProfile = {
  name: 'none',
  apiRequestMs: 0,
  execSetupMs: 0,
  podStartMs: 0,
  imagePullMs: {},
  otherImagePullMs: 0,
  pwruAttachMsPerFunction: 0,
  monitorConnectMs: 0,
};

const CLOUD: LatencyProfile = {
  name: 'cloud',
  apiRequestMs: 25,
  execSetupMs: 150,
  podStartMs: 1500,
  imagePullMs: { [CAPTURE_IMAGE]: 4000, [PWRU_IMAGE]: 1500 },
  otherImagePullMs: 4000,
  pwruAttachMsPerFunction: 2,
  monitorConnectMs: 300,
};

/** The profile of a name; undefined (a lab made before the model, or no name) is `none`. */
export function latencyProfile(name: LatencyProfileName | undefined): LatencyProfile {
  return name === 'cloud' ? CLOUD : NONE;
}

/** The pull time of an image on a node that does not have it. */
export function pullMs(profile: LatencyProfile, image: string): number {
  return profile.imagePullMs[image] ?? profile.otherImagePullMs;
}

/** One line for `lab status` and the bench. */
export function describeLatency(p: LatencyProfile): string {
  if (p.name === 'none') return 'latency none (no waits added)';
  const pulls = Object.entries(p.imagePullMs).map(([image, ms]) => `${image} ${ms / 1000} s`);
  return (
    `latency ${p.name}: API request ${p.apiRequestMs} ms, exec set-up ${p.execSetupMs} ms, pod start ${p.podStartMs / 1000} s, ` +
    `first pull per node ${[...pulls, `other images ${p.otherImagePullMs / 1000} s`].join(', ')} (one at a time per node, cached until down), ` +
    `pwru attach ${p.pwruAttachMsPerFunction} ms per function, monitor connect ${p.monitorConnectMs} ms`
  );
}

export function waitMs(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
