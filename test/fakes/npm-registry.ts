import {createHash} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import {createServer, type Server} from 'node:http'
import {basename} from 'node:path'

export interface PublishedPackage {
  /** The package's package.json, as `npm pack` put it in the tarball. */
  readonly manifest: {name: string; version: string} & Record<string, unknown>
  readonly tarball: string
}

/**
 * Enough of the npm registry API for `npm install` (docs.npmjs.com, "registry"): `GET
 * /<name>` (a scoped name's slash escaped as %2f) answers the packument, each version with
 * `dist.tarball`, `dist.integrity` and `dist.shasum`; the tarball URL answers its bytes.
 * Anything else is 404, as for an unpublished package, so nothing is fetched from elsewhere.
 */
export class NpmRegistry {
  #packages = new Map<string, {manifest: PublishedPackage['manifest']; bytes: Buffer; file: string}>()
  #server: Server | undefined

  get url(): string {
    const address = this.#server?.address()
    if (!address || typeof address === 'string') throw new Error('the registry is not listening')
    return `http://127.0.0.1:${address.port}/`
  }

  async publish(...packages: PublishedPackage[]): Promise<this> {
    for (const {manifest, tarball} of packages) this.#packages.set(manifest.name, {bytes: await readFile(tarball), file: basename(tarball), manifest})
    return this
  }

  async listen(): Promise<this> {
    this.#server = createServer((request, response) => {
      const path = decodeURIComponent((request.url ?? '/').split('?')[0] ?? '/').replace(/^\/+/, '')
      const tarball = [...this.#packages.values()].find((entry) => path === `-/${entry.file}`)
      if (tarball) {
        response.writeHead(200, {'content-length': tarball.bytes.length, 'content-type': 'application/octet-stream'})
        response.end(tarball.bytes)
        return
      }

      const entry = this.#packages.get(path)
      if (!entry) {
        response.writeHead(404, {'content-type': 'application/json'})
        response.end('{"error":"Not found"}')
        return
      }

      const {bytes, file, manifest} = entry
      const dist = {
        integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
        shasum: createHash('sha1').update(bytes).digest('hex'),
        tarball: `${this.url}-/${file}`,
      }
      response.writeHead(200, {'content-type': 'application/json'})
      response.end(JSON.stringify({'dist-tags': {latest: manifest.version}, name: manifest.name, versions: {[manifest.version]: {...manifest, dist}}}))
    })
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve))
    return this
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      if (!this.#server) return resolve()
      this.#server.closeAllConnections()
      this.#server.close(() => resolve())
    })
  }
}
