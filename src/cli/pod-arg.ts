import { UsageError } from '../core/errors.js';
import { quoted } from './program.js';

/** PodArg: a pod as the user typed it; the namespace is filled from -n or the context when absent. */
export interface PodArg {
  namespace?: string;
  name: string;
}

// Pod names are DNS-1123 subdomains, namespaces DNS-1123 labels (k8s.io/apimachinery validation).
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** parsePodArg reads `NAME` or `NAMESPACE/NAME`, refusing anything that cannot be a pod. */
export function parsePodArg(arg: string): PodArg {
  const parts = arg.split('/');
  const usage = arg === '' ? 'a pod name is empty: expected NAME or NAMESPACE/NAME' : `${quoted(arg)} is not a pod: expected NAME or NAMESPACE/NAME (lower-case letters, digits, '-' and '.')`;
  if (parts.length > 2) throw new UsageError(usage);
  const name = parts[parts.length - 1];
  if (name.length > 253 || !SUBDOMAIN.test(name)) throw new UsageError(usage);
  if (parts.length === 1) return { name };
  const namespace = parts[0];
  if (namespace.length > 63 || !LABEL.test(namespace)) throw new UsageError(usage);
  return { namespace, name };
}
