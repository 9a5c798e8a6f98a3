/**
 * Error translation for everything that talks to the API server: client-node's ApiException
 * (whose message is code + body + every header), the `ws` ErrorEvent of a failed exec handshake,
 * and Node's network and TLS errors. Each becomes one DatapathError line that says what was
 * refused or missing and what to do, with the exit code of its class.
 */
import { DatapathError, EXIT, ForbiddenError, NotFoundError, UnavailableError } from '../../core/errors.js';

/** ApiCall: what a request was doing, as RBAC sees it, so an error can name it. */
export interface ApiCall {
  verb: string;
  resource: string;
  subresource?: string;
  /** API group; '' (core) when absent. */
  group?: string;
  namespace?: string;
  name?: string;
  /** The API server URL of the current context. */
  server: string;
}

/** HttpFailure: an HTTP answer that was not a success, with its body (a Status object as JSON, usually). */
export interface HttpFailure {
  code: number;
  body: string;
}

interface KubeStatus {
  message?: string;
  reason?: string;
  details?: { name?: string; kind?: string; group?: string };
}

// kube-apiserver's RBAC denial (plugin/pkg/auth/authorizer/rbac: "User %q cannot %s resource %q in API group %q ...").
const RBAC_DENIAL = /(User|ServiceAccount|Group) "([^"]*)" cannot (\S+) resource "([^"]+)" in API group "([^"]*)"(?: in the namespace "([^"]+)"| at the cluster scope)?/;
// Pod Security admission: `pods "x" is forbidden: violates PodSecurity "baseline:latest": host namespaces (...)`.
const POD_SECURITY = /violates PodSecurity "([a-z]+)(?::[^"]*)?": (.*)$/;
const UNEXPECTED_RESPONSE = /Unexpected server response: (\d{3})/;

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed (temporary DNS failure)',
  ETIMEDOUT: 'connection timed out',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed',
};

const TLS_UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

/** apiCallText: `create pods/exec in namespace "kube-system"`, how a call reads in a sentence. */
export function apiCallText(call: Pick<ApiCall, 'verb' | 'resource' | 'subresource' | 'group' | 'namespace'>): string {
  const resource = qualifiedResource(call.resource, call.subresource, call.group);
  return call.namespace === undefined ? `${call.verb} ${resource} (cluster-wide)` : `${call.verb} ${resource} in namespace "${call.namespace}"`;
}

function qualifiedResource(resource: string, subresource: string | undefined, group: string | undefined): string {
  const base = group ? `${resource}.${group}` : resource;
  return subresource ? `${base}/${subresource}` : base;
}

/** rbacHint: the rule that would allow a call, in the words of a Role (or ClusterRole) manifest. */
export function rbacHint(call: Pick<ApiCall, 'verb' | 'resource' | 'subresource' | 'group' | 'namespace'>): string {
  const resource = call.subresource ? `${call.resource}/${call.subresource}` : call.resource;
  const where = call.namespace === undefined ? 'a ClusterRole' : `a Role in namespace "${call.namespace}" (or a ClusterRole)`;
  return `add {apiGroups: ["${call.group ?? ''}"], resources: ["${resource}"], verbs: ["${call.verb}"]} to ${where} bound to you (see docs/rbac.yaml)`;
}

function parseStatus(body: string): KubeStatus | undefined {
  try {
    const value = JSON.parse(body) as unknown;
    return value !== null && typeof value === 'object' ? (value as KubeStatus) : undefined;
  } catch {
    return undefined;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, '; ').trim();
}

function objectText(call: ApiCall): string {
  const kind = call.resource.replace(/s$/, '');
  const name = call.name ?? '';
  if (call.namespace === undefined) return `${kind} "${name}"`;
  return `${kind} ${call.namespace}/${name}`;
}

/** translateHttpFailure: a non-2xx answer of the API server as one actionable line. */
export function translateHttpFailure(failure: HttpFailure, call: ApiCall): DatapathError {
  const status = parseStatus(failure.body);
  const message = status?.message ? oneLine(status.message) : undefined;
  switch (failure.code) {
    case 401:
      return new DatapathError(
        `the API server at ${call.server} rejected our credentials (401 Unauthorized): the token or client certificate of the current context is invalid or expired; log in again or refresh the kubeconfig`,
        EXIT.error,
      );
    case 403:
      return forbidden(message, call);
    case 404:
      return notFound(status, call);
    case 409:
      return new DatapathError(`cannot ${apiCallText(call)}: ${message ?? `${objectText(call)} already exists`}`, EXIT.error);
    case 429:
      return new UnavailableError(`the API server at ${call.server} is throttling requests (429 Too Many Requests); try again in a moment`);
    default: {
      const what = message ?? (failure.body.trim() === '' ? 'no details' : oneLine(failure.body.slice(0, 300)));
      if (failure.code >= 500) return new UnavailableError(`the API server at ${call.server} failed to ${apiCallText(call)} (${failure.code}): ${what}; it is overloaded, restarting or cannot reach the node: try again in a moment`);
      return new DatapathError(`cannot ${apiCallText(call)} (${failure.code}): ${what}`, EXIT.error);
    }
  }
}

function forbidden(message: string | undefined, call: ApiCall): ForbiddenError {
  const psa = message === undefined ? null : POD_SECURITY.exec(message);
  if (psa !== null) {
    return new ForbiddenError(
      `Pod Security level "${psa[1]}" of namespace "${call.namespace ?? ''}" refused ${objectText(call)}: ${psa[2]}; use --probe-namespace with a namespace labelled pod-security.kubernetes.io/enforce=privileged`,
    );
  }
  const rbac = message === undefined ? null : RBAC_DENIAL.exec(message);
  if (rbac !== null) {
    const [, , who, verb, resourcePath, group, namespace] = rbac;
    const [resource, subresource] = resourcePath.split('/', 2);
    const denied = { verb, resource, subresource, group, namespace };
    return new ForbiddenError(`forbidden: ${rbac[1].toLowerCase()} "${who}" may not ${apiCallText(denied)}; ${rbacHint(denied)}`);
  }
  const detail = message === undefined ? '' : ` (${message})`;
  return new ForbiddenError(`forbidden: you may not ${apiCallText(call)}${detail}; ${rbacHint(call)}`);
}

function notFound(status: KubeStatus | undefined, call: ApiCall): NotFoundError {
  // A 404 without details is the server not knowing the resource type at all (no CRD, wrong group).
  const missingType = status?.details?.name === undefined && (status?.message === undefined || /could not find the requested resource/.test(status.message));
  if (missingType && status !== undefined && call.name !== undefined) {
    const resource = qualifiedResource(call.resource, undefined, call.group);
    return new NotFoundError(`the API server at ${call.server} does not serve ${resource}${call.group === 'cilium.io' ? ': is Cilium installed (CRD ciliumendpoints.cilium.io)?' : ''}`);
  }
  if (call.subresource === 'exec' || call.resource === 'pods') return new NotFoundError(`pod ${call.namespace ?? ''}/${call.name ?? ''} not found`);
  if (call.resource === 'namespaces') return new NotFoundError(`namespace "${call.name ?? ''}" not found`);
  return new NotFoundError(`${objectText(call)} not found`);
}

/** The HTTP failure inside an error, when the error carries one (ApiException, exec handshake). */
function httpFailureOf(err: unknown): HttpFailure | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const e = err as { code?: unknown; statusCode?: unknown; body?: unknown; message?: unknown };
  // ApiException carries `code` and the raw body; a failed Watch carries only `statusCode`.
  const code = typeof e.code === 'number' ? e.code : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (code !== undefined && code >= 300) {
    return { code, body: typeof e.body === 'string' ? e.body : e.body === undefined ? '' : JSON.stringify(e.body) };
  }
  const m = typeof e.message === 'string' ? UNEXPECTED_RESPONSE.exec(e.message) : null;
  if (m !== null) return { code: Number(m[1]), body: '' };
  return undefined;
}

/** The Node system error code (ECONNREFUSED, CERT_HAS_EXPIRED ...) anywhere in an error's cause chain. */
function systemCodeOf(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 5; depth++) {
    const o = e as { code?: unknown; errno?: unknown; error?: unknown; cause?: unknown };
    if (typeof o.code === 'string') return o.code;
    if (typeof o.errno === 'string') return o.errno;
    e = o.error ?? o.cause;
  }
  return undefined;
}

function hostOf(server: string): string {
  try {
    return new URL(server).hostname;
  } catch {
    return server;
  }
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (err !== null && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') return (err as { message: string }).message;
  return String(err);
}

/**
 * translateApiError turns whatever an API call or exec handshake threw into one DatapathError:
 * 401/403/404/... from the answer, unreachable server, TLS trust and hostname problems.
 */
export function translateApiError(err: unknown, call: ApiCall): DatapathError {
  if (err instanceof DatapathError) return err;
  const failure = httpFailureOf(err);
  if (failure !== undefined) return translateHttpFailure(failure, call);
  const code = systemCodeOf(err);
  if (code !== undefined) {
    const network = NETWORK_CODES[code];
    if (network !== undefined) {
      // A reset or refusal mid-run is a restarting server as often as a wrong address: either way, another try may work.
      return new UnavailableError(`the API server at ${call.server} is unreachable (${network}, ${code}): check the cluster address in the kubeconfig, VPN or network`);
    }
    if (TLS_UNTRUSTED.has(code)) {
      return new DatapathError(
        `TLS: the certificate of the API server at ${call.server} is not trusted (${code}): the kubeconfig's certificate-authority does not match the server`,
        EXIT.error,
      );
    }
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      return new DatapathError(
        `TLS: the certificate of the API server at ${call.server} does not name host ${hostOf(call.server)} (${code}); use an address the certificate names, or set tls-server-name in the kubeconfig`,
        EXIT.error,
      );
    }
    if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
      return new DatapathError(`TLS: the certificate of the API server at ${call.server} is ${code === 'CERT_HAS_EXPIRED' ? 'expired' : 'not yet valid'} (${code})`, EXIT.error);
    }
    if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || code.includes('CERT')) {
      return new DatapathError(`TLS handshake with the API server at ${call.server} failed (${code}): ${oneLine(messageOf(err))}`, EXIT.error);
    }
  }
  return new DatapathError(`cannot ${apiCallText(call)} at ${call.server}: ${oneLine(messageOf(err))}`, EXIT.error);
}
