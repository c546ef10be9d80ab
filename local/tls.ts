/**
 * The local provider's certificates for nodes with in-transit encryption, made on this machine.
 *
 * ElastiCache's TLS nodes present a certificate for their endpoint names (e.g.
 * `master.<group>.<id>.<region>.cache.amazonaws.com`), and clients verify the name they connected
 * to. Locally every node has its own names and loopback address, known only when it starts, so its
 * certificate is issued then, by a certificate authority of this machine's own (as `mkcert` does):
 * made on first use in `localCaDir()`, its key readable by this user only and never leaving the
 * machine. Clients trust it through `NODE_EXTRA_CA_CERTS` (printed by `serve`, set by the repository's
 * test, drill and bench tasks) or `redis-cli --tls --cacert`.
 *
 * Certificates are made with node-forge (X.509 encoding and signing; Node has no API to issue a
 * certificate); keys with Node's crypto (RSA 2048, native and fast).
 */
import { generateKeyPairSync, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as forge from 'node-forge';

/** The folder of this machine's local CA: `CDK_ELASTICACHE_BACKUP_CA_DIR`, else `~/.cdk-elasticache-backup/local-ca`. */
export function localCaDir(): string {
  return process.env.CDK_ELASTICACHE_BACKUP_CA_DIR || path.join(os.homedir(), '.cdk-elasticache-backup', 'local-ca');
}

export interface LocalCa {
  /** The CA's certificate, which clients trust. */
  readonly caFile: string;
  /** The CA's private key (mode 0600). */
  readonly keyFile: string;
}

const CA_NAME = 'cdk-elasticache-backup local provider CA';

function newKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

function serial(): string {
  // A positive 128-bit serial (the high bit clear: DER integers are signed).
  const bytes = randomBytes(16);
  bytes[0] = bytes[0] % 128;
  return bytes.toString('hex');
}

/**
 * This machine's local CA, made on first use. Made in a folder of its own that is renamed into
 * place, so that processes starting at once (jest workers) all end up with the same one.
 */
export function localCa(): LocalCa {
  const dir = localCaDir();
  const files = { caFile: path.join(dir, 'ca.pem'), keyFile: path.join(dir, 'ca.key') };
  if (fs.existsSync(files.caFile) && fs.existsSync(files.keyFile)) return files;
  fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o700 });
  const staging = fs.mkdtempSync(`${dir}.new-`);
  try {
    const keys = newKeyPair();
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
    cert.serialNumber = serial();
    cert.validity.notBefore = new Date(Date.now() - 24 * 3600_000);
    cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 24 * 3600_000);
    const subject = [{ name: 'organizationName', value: 'cdk-elasticache-backup' }, { name: 'commonName', value: `${CA_NAME} (${os.hostname()})` }];
    cert.setSubject(subject);
    cert.setIssuer(subject);
    cert.setExtensions([
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      { name: 'subjectKeyIdentifier' },
    ]);
    cert.sign(forge.pki.privateKeyFromPem(keys.privateKeyPem), forge.md.sha256.create());
    fs.writeFileSync(path.join(staging, 'ca.key'), keys.privateKeyPem, { mode: 0o600 });
    fs.writeFileSync(path.join(staging, 'ca.pem'), forge.pki.certificateToPem(cert), { mode: 0o644 });
    fs.chmodSync(staging, 0o700);
    try {
      fs.renameSync(staging, dir);
    } catch (e) {
      // Another process made it first (the folder exists and is not empty): use theirs.
      if (!fs.existsSync(files.caFile)) throw e;
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return files;
}

/** One key for every node certificate of this process (a node's key protects nothing but a local test node). */
let nodeKeys: { privateKeyPem: string; publicKey: forge.pki.PublicKey } | undefined;
let caSigner: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey; file: string } | undefined;

export interface NodeCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  /** The CA's certificate (what the node trusts for replication and the cluster bus). */
  readonly caFile: string;
}

/**
 * Issues a server certificate for a node, valid for `names` (DNS names, wildcards allowed) and `ips`,
 * and writes it and its key into `dir` (`tls.pem`, `tls.key`).
 */
export function issueNodeCertificate(dir: string, names: readonly string[], ips: readonly string[]): NodeCertificate {
  const ca = localCa();
  if (!caSigner || caSigner.file !== ca.caFile) {
    caSigner = {
      cert: forge.pki.certificateFromPem(fs.readFileSync(ca.caFile, 'utf-8')),
      key: forge.pki.privateKeyFromPem(fs.readFileSync(ca.keyFile, 'utf-8')),
      file: ca.caFile,
    };
  }
  if (!nodeKeys) {
    const keys = newKeyPair();
    nodeKeys = { privateKeyPem: keys.privateKeyPem, publicKey: forge.pki.publicKeyFromPem(keys.publicKeyPem) };
  }
  const cert = forge.pki.createCertificate();
  cert.publicKey = nodeKeys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 24 * 3600_000);
  cert.setSubject([{ name: 'organizationName', value: 'cdk-elasticache-backup' }, { name: 'commonName', value: names[0] ?? ips[0] ?? 'localhost' }]);
  cert.setIssuer(caSigner.cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    // clientAuth too: a replica presents it when it connects to its primary (tls-replication).
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', altNames: [...names.map((value) => ({ type: 2, value })), ...ips.map((ip) => ({ type: 7, ip }))] },
  ]);
  cert.sign(caSigner.key, forge.md.sha256.create());
  fs.mkdirSync(dir, { recursive: true });
  const files = { certFile: path.join(dir, 'tls.pem'), keyFile: path.join(dir, 'tls.key'), caFile: ca.caFile };
  fs.writeFileSync(files.keyFile, nodeKeys.privateKeyPem, { mode: 0o600 });
  fs.writeFileSync(files.certFile, forge.pki.certificateToPem(cert));
  return files;
}

// `ts-node local/tls.ts` prints the CA's certificate path (making the CA if needed): the repository's
// tasks set NODE_EXTRA_CA_CERTS with it before Node starts.
// Run as a script (not when bundled into lib/local/cli.js, where `module` is the bundle's own).
if (require.main === module && /[\\/]tls\.[jt]s$/.test(require.main.filename)) {
  process.stdout.write(localCa().caFile);
}
