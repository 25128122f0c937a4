import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

/**
 * A self-signed certificate for 127.0.0.1 and localhost, made with the openssl command for
 * this test run: a TLS server for the fakes, trusted only where a test says so (e.g.
 * NODE_EXTRA_CA_CERTS=certPath for a spawned CLI).
 */
export function selfSignedCertificate(scratch: string): {cert: string; certPath: string; key: string} {
  const dir = mkdtempSync(join(scratch, 'tls-'))
  const certPath = join(dir, 'cert.pem')
  const keyPath = join(dir, 'key.pem')
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=synthex test', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyPath, '-out', certPath,
  ], {stdio: 'pipe'})
  return {cert: readFileSync(certPath, 'utf8'), certPath, key: readFileSync(keyPath, 'utf8')}
}
