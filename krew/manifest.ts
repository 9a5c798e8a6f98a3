import { parse } from 'yaml';

/**
 * The krew manifest: rendered from the krew-release-bot template (krew/.krew.yaml) with the
 * sha256 of the archives just built, and checked against krew's own rules
 * (krew: internal/index/validation/validate.go, cmd/validate-krew-manifest; semver with a `v`).
 */

const ADD_URI_AND_SHA = /\{\{\s*addURIAndSha\s+"([^"]+)"\s+\.TagName\s*\}\}/g;
const TAG_NAME = /\{\{\s*\.TagName\s*\}\}/g;

/** The archive URL of each platform in the template, for a tag: what the release must publish. */
export function templateUris(template: string, tag: string): string[] {
  return [...template.matchAll(ADD_URI_AND_SHA)].map((m) => m[1].replace(TAG_NAME, tag));
}

/**
 * renderManifest does what krew-release-bot does with the template at release time:
 * `{{ .TagName }}` becomes the tag and each `{{addURIAndSha "URL" .TagName}}` becomes
 * `uri: URL` and `sha256: <the archive's sha256>` at the template line's indentation.
 */
export function renderManifest(template: string, tag: string, sha256OfUri: (uri: string) => string): string {
  return template
    .split('\n')
    .map((line) => {
      const indent = /^\s*/.exec(line)![0];
      return line.replace(ADD_URI_AND_SHA, (_, url: string) => {
        const uri = url.replace(TAG_NAME, tag);
        return `uri: ${uri}\n${indent}sha256: ${sha256OfUri(uri)}`;
      });
    })
    .join('\n')
    .replace(TAG_NAME, tag);
}

/** Platforms krew-index's validate-krew-manifest accepts (os/arch). */
const ALLOWED_PLATFORMS = new Set([
  'windows/386', 'windows/amd64', 'windows/arm64',
  'linux/386', 'linux/amd64', 'linux/arm', 'linux/arm64', 'linux/ppc64le',
  'darwin/386', 'darwin/amd64', 'darwin/arm64',
]);
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com\d|lpt\d)$/i;
/** krew's semver.Parse: a leading v, then semantic version 2.0. */
const SEMVER_V = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

export interface ManifestPlatform {
  os: string;
  arch: string;
  uri: string;
  sha256: string;
  bin: string;
  files?: { from: string; to: string }[];
}

export interface Manifest {
  name: string;
  version: string;
  shortDescription: string;
  caveats: string;
  platforms: ManifestPlatform[];
}

interface RawPlatform {
  selector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
  uri?: string;
  sha256?: string;
  bin?: string;
  files?: { from?: string; to?: string }[];
}

/**
 * validateManifest checks a krew manifest as krew-index does before it installs each platform:
 * returns the manifest and every rule it breaks (an empty list when it is valid).
 */
export function validateManifest(text: string): { manifest: Manifest; problems: string[] } {
  const problems: string[] = [];
  const doc = parse(text) as {
    apiVersion?: string;
    kind?: string;
    metadata?: { name?: string };
    spec?: { version?: string; shortDescription?: string; caveats?: string; platforms?: RawPlatform[] };
  };
  if (doc.apiVersion !== 'krew.googlecontainertools.github.com/v1alpha2') problems.push(`apiVersion is ${doc.apiVersion}, not krew.googlecontainertools.github.com/v1alpha2`);
  if (doc.kind !== 'Plugin') problems.push(`kind is ${doc.kind}, not Plugin`);
  const name = doc.metadata?.name ?? '';
  if (!/^[\w-]+$/.test(name)) problems.push(`metadata.name "${name}" does not match ^[\\w-]+$`);
  if (WINDOWS_RESERVED.test(name)) problems.push(`metadata.name "${name}" is a reserved Windows name`);
  const spec = doc.spec ?? {};
  const version = spec.version ?? '';
  if (!SEMVER_V.test(version)) problems.push(`spec.version "${version}" is not a semantic version with a leading v`);
  const short = spec.shortDescription ?? '';
  if (short === '') problems.push('spec.shortDescription is empty');
  if (/[\r\n]/.test(short)) problems.push('spec.shortDescription has a line break');
  const raw = spec.platforms ?? [];
  if (raw.length === 0) problems.push('spec.platforms is empty');
  const seen = new Set<string>();
  const platforms: ManifestPlatform[] = raw.map((p, i) => {
    const where = `spec.platforms[${i}]`;
    const labels = p.selector?.matchLabels ?? {};
    if (!p.selector || (Object.keys(labels).length === 0 && (p.selector.matchExpressions?.length ?? 0) === 0)) problems.push(`${where}.selector is empty`);
    for (const key of Object.keys(labels)) if (key !== 'os' && key !== 'arch') problems.push(`${where}.selector has key "${key}" (only os and arch)`);
    const platform = `${labels.os}/${labels.arch}`;
    if (!ALLOWED_PLATFORMS.has(platform)) problems.push(`${where}: ${platform} is not a platform krew-index accepts`);
    if (seen.has(platform)) problems.push(`${where}: a second platform matches ${platform}`);
    seen.add(platform);
    if (!p.uri) problems.push(`${where}.uri is missing`);
    else if (!/\.(tar\.gz|zip)$/.test(p.uri)) problems.push(`${where}.uri is not a .tar.gz or .zip archive`);
    if (!/^[a-f0-9]{64}$/.test(p.sha256 ?? '')) problems.push(`${where}.sha256 "${p.sha256}" is not 64 lowercase hex digits`);
    if (!p.bin) problems.push(`${where}.bin is missing`);
    if (p.files !== undefined) {
      if (p.files.length === 0) problems.push(`${where}.files is empty (leave it out to take every file)`);
      p.files.forEach((f, j) => {
        if (!f.from || !f.to) problems.push(`${where}.files[${j}] needs both from and to`);
      });
    }
    const out: ManifestPlatform = { os: labels.os ?? '', arch: labels.arch ?? '', uri: p.uri ?? '', sha256: p.sha256 ?? '', bin: p.bin ?? '' };
    if (p.files) out.files = p.files.map((f) => ({ from: f.from ?? '', to: f.to ?? '' }));
    return out;
  });
  return { manifest: { name, version, shortDescription: short, caveats: spec.caveats ?? '', platforms }, problems };
}

/** krew's license check after install: a file with one of these names among the installed files. */
export function isLicenseFile(name: string): boolean {
  return /^(licen[cs]e|copying)(\.(txt|md))?$/i.test(name);
}
