/** Version switches of the emulated agent CLI: which output shapes a Cilium release prints. */

/** Major/minor of a version such as "1.16.5" or "1.15.0-rc.1". */
export function minorOf(version: string): [number, number] {
  const m = /^v?(\d+)\.(\d+)/.exec(version);
  return m ? [Number(m[1]), Number(m[2])] : [1, 16];
}

/** Whether version >= major.minor. */
export function atLeast(version: string, major: number, minor: number): boolean {
  const [a, b] = minorOf(version);
  return a > major || (a === major && b >= minor);
}

/** Git commits of the releases the fixtures show; others get a stable stand-in. */
const COMMITS: Record<string, string> = { '1.11.1': '76d34db', '1.15.0-rc.1': 'f582c55c', '1.16.5': 'ad688277' };

/** "1.16.5 (v1.16.5-ad688277)", as the agent reports itself. */
export function versionString(version: string, hash: (s: string) => string): string {
  const commit = COMMITS[version] ?? hash(version).slice(0, atLeast(version, 1, 14) ? 8 : 7);
  return `${version} (v${version}-${commit})`;
}
