/**
 * metav1.Status bodies shaped like kube-apiserver's (apimachinery pkg/api/errors), so kubectl
 * prints `Error from server (Reason): message` and client-node's ApiException carries the code.
 */
import type { RequestAttributes } from './rbac.js';

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: { reason?: string; message?: string; field?: string }[];
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** An error that carries the Status the client must receive. */
export class ApiError extends Error {
  constructor(readonly status: Status) {
    super(status.message ?? status.reason ?? `HTTP ${status.code}`);
  }
}

function failure(code: number, reason: string, message: string, details?: StatusDetails): ApiError {
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) status.details = details;
  return new ApiError(status);
}

/** Group and resource as apimachinery's GroupResource.String() prints them ("pods", "ciliumendpoints.cilium.io"). */
export function qualifiedResource(group: string, resource: string): string {
  return group === '' ? resource : `${resource}.${group}`;
}

function withGroup(details: StatusDetails, group: string): StatusDetails {
  return group === '' ? details : { ...details, group };
}

export function notFound(group: string, resource: string, name: string): ApiError {
  return failure(404, 'NotFound', `${qualifiedResource(group, resource)} "${name}" not found`, withGroup({ name, kind: resource }, group));
}

export function alreadyExists(group: string, resource: string, name: string): ApiError {
  return failure(409, 'AlreadyExists', `${qualifiedResource(group, resource)} "${name}" already exists`, withGroup({ name, kind: resource }, group));
}

export function unauthorized(): ApiError {
  return failure(401, 'Unauthorized', 'Unauthorized');
}

/** The RBAC denial text of k8s.io/apiserver's authorization filter (responsewriters.forbiddenMessage). */
export function forbidden(attrs: RequestAttributes & { user: string }): ApiError {
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const scope = attrs.namespace ? `in the namespace "${attrs.namespace}"` : 'at the cluster scope';
  const reason = `User "${attrs.user}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.group}" ${scope}`;
  const subject = qualifiedResource(attrs.group, attrs.resource);
  const message = attrs.name ? `${subject} "${attrs.name}" is forbidden: ${reason}` : `${subject} is forbidden: ${reason}`;
  const details: StatusDetails = withGroup({ kind: attrs.resource }, attrs.group);
  if (attrs.name) details.name = attrs.name;
  return failure(403, 'Forbidden', message, details);
}

export function forbiddenPath(user: string, verb: string, path: string): ApiError {
  return failure(403, 'Forbidden', `forbidden: User "${user}" cannot ${verb} path "${path}"`);
}

export function badRequest(message: string): ApiError {
  return failure(400, 'BadRequest', message);
}

export function methodNotAllowed(): ApiError {
  return failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

export function pathNotFound(): ApiError {
  return failure(404, 'NotFound', 'the server could not find the requested resource');
}

/** 422 for a create body that fails validation (field errors as causes, like apiserver). */
export function invalid(
  kind: string,
  name: string,
  causes: { field: string; message: string; reason: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported' }[],
): ApiError {
  const text = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
  return failure(422, 'Invalid', `${kind} "${name}" is invalid: ${text}`, {
    name,
    kind: kind.toLowerCase() + 's',
    causes: causes.map((c) => ({ reason: c.reason, message: c.message, field: c.field })),
  });
}

export function unsupportedMediaType(mediaType: string): ApiError {
  return failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (the lab does not decode ${mediaType})`);
}

export function expired(message: string): ApiError {
  return failure(410, 'Expired', message);
}

export function internal(message: string): ApiError {
  return failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
}
