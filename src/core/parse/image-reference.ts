/** ImageReference: a container image reference taken apart (`registry/repo:tag@sha256:...`). */
export interface ImageReference {
  /** Everything before the tag and digest, registry included: `quay.io/cilium/cilium`. */
  repository: string;
  tag?: string;
  digest?: string;
}

/** parseImageReference splits an image reference; a `:` inside the registry host (a port) is not a tag. */
export function parseImageReference(image: string): ImageReference {
  const at = image.indexOf('@');
  const name = at >= 0 ? image.slice(0, at) : image;
  const digest = at >= 0 ? image.slice(at + 1) : undefined;
  const colon = name.lastIndexOf(':');
  const ref: ImageReference = colon > name.lastIndexOf('/') ? { repository: name.slice(0, colon), tag: name.slice(colon + 1) } : { repository: name };
  if (digest) ref.digest = digest;
  return ref;
}

const VERSION_TAG = /^v?(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?)$/;

/**
 * versionOfImage reads a release version from an image tag (`v1.16.5` -> `1.16.5`,
 * `v1.15.3-cee.1` -> `1.15.3-cee.1`); undefined for `latest`, a branch name or a digest alone.
 */
export function versionOfImage(image: string): string | undefined {
  const tag = parseImageReference(image).tag;
  return tag ? VERSION_TAG.exec(tag)?.[1] : undefined;
}
