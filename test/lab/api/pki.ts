/**
 * A throw-away CA and a server certificate for 127.0.0.1, made with the openssl CLI at `lab up`,
 * so clients verify TLS for real (no insecure-skip-tls-verify).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Pki {
  caFile: string;
  certFile: string;
  keyFile: string;
}

const CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = dplab-apiserver
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Generates ca.crt/ca.key and server.crt/server.key (ECDSA P-256, 30 days) into dir, replacing old ones. */
export function generatePki(dir: string): Pki {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'openssl.cnf'), CONFIG);
  const serial = () => `0x${randomBytes(16).toString('hex').replace(/^[89a-f]/, '1')}`; // positive, as Go requires
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ca.key'], dir);
  openssl(
    ['req', '-config', 'openssl.cnf', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', '30', '-subj', '/CN=dplab-ca', '-extensions', 'ca_ext', '-set_serial', serial(), '-out', 'ca.crt'],
    dir,
  );
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'server.key'], dir);
  openssl(['req', '-config', 'openssl.cnf', '-new', '-key', 'server.key', '-subj', '/CN=dplab-apiserver', '-out', 'server.csr'], dir);
  openssl(
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', serial(), '-days', '30', '-sha256', '-extfile', 'openssl.cnf', '-extensions', 'server_ext', '-out', 'server.crt'],
    dir,
  );
  chmodSync(join(dir, 'ca.key'), 0o600);
  chmodSync(join(dir, 'server.key'), 0o600);
  return { caFile: join(dir, 'ca.crt'), certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key') };
}
