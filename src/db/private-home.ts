import {chmodSync, lstatSync, mkdirSync, readdirSync, statSync, type Stats} from 'node:fs'
import {join} from 'node:path'

import type {PGliteOptions} from '@electric-sql/pglite'

/**
 * $SYNTHEX_HOME holds the embedded database and the key its credentials are encrypted with:
 * nothing in it may be readable or writable by anyone but its owner, whatever the umask.
 *
 * PGlite writes through Emscripten's NODEFS, which sets the mode Postgres asks for with an
 * explicit chmod, past the umask; and the data directory of a new database arrives as a
 * tarball made in memory, whose ~1,000 files all say 0666. privateNodeFs removes the group
 * and other bits from every mode PGlite sets, at the source and at no cost. The directories
 * synthex creates are 0700, and a home found loose (copied, restored, chmod -R) is repaired.
 */

/** Permission bits for the group and for others. */
const SHARED_BITS = 0o077
const PRIVATE_DIR = 0o700
/** What synthex keeps in $SYNTHEX_HOME; anything else there is not its business. */
const OWN_ENTRIES = /^(pgdata|pgdata\.lock(\..+)?|encryption\.key)$/

/** Creates a directory (and its missing parents) private to the user, whatever the umask. */
export function makePrivateDirectory(path: string): void {
  mkdirSync(path, {mode: PRIVATE_DIR, recursive: true})
}

interface NodeFsOps {
  readonly node_ops: {mknod(parent: unknown, name: string, mode: number, dev: number): unknown; setattr(node: unknown, attr: {mode?: number}): unknown}
  readonly stream_ops: {setattr(stream: unknown, attr: {mode?: number}): unknown}
}

/**
 * PGlite's own NodeFS, with group and other bits removed from every mode it sets (a file or
 * directory it creates, a chmod). Emscripten checks permissions on the owner's bits, which
 * are left as they are.
 */
export async function privateNodeFs(dataDir: string): Promise<NonNullable<PGliteOptions['fs']>> {
  const {NodeFS} = await import('@electric-sql/pglite/nodefs')
  class PrivateNodeFS extends NodeFS {
    override async init(...args: Parameters<InstanceType<typeof NodeFS>['init']>): ReturnType<InstanceType<typeof NodeFS>['init']> {
      const {emscriptenOpts} = await super.init(...args)
      const preRun = [(module: {NODEFS?: unknown}) => restrictModes(module.NODEFS), ...(emscriptenOpts.preRun ?? [])]
      return {emscriptenOpts: {...emscriptenOpts, preRun: preRun as typeof emscriptenOpts.preRun}}
    }
  }

  return new PrivateNodeFS(dataDir)
}

function restrictModes(nodefs: unknown): void {
  const fs = nodefs as Partial<NodeFsOps> | undefined
  // Another PGlite build without these: the directories (0700) and repairHome still hold.
  if (typeof fs?.node_ops?.mknod !== 'function' || typeof fs.node_ops.setattr !== 'function' || typeof fs.stream_ops?.setattr !== 'function') return
  const {node_ops: nodeOps, stream_ops: streamOps} = fs as NodeFsOps
  const {mknod, setattr} = nodeOps
  const setStreamAttr = streamOps.setattr
  const strip = <T extends {mode?: number}>(attr: T): T => (attr.mode === undefined || attr.mode === null ? attr : {...attr, mode: attr.mode & ~SHARED_BITS})
  Object.assign(nodeOps, {
    mknod: (parent: unknown, name: string, mode: number, dev: number) => mknod(parent, name, mode & ~SHARED_BITS, dev),
    setattr: (node: unknown, attr: {mode?: number}) => setattr(node, strip(attr)),
  })
  streamOps.setattr = (stream: unknown, attr: {mode?: number}) => setStreamAttr(stream, strip(attr))
}

/**
 * Removes group and other bits from what is under `path`, and execute bits from its files (not
 * following links); returns how many entries changed.
 */
export function makeTreePrivate(path: string): number {
  let stats: Stats
  try {
    stats = lstatSync(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0
    throw error
  }

  // A link is not followed: what it points to is not synthex's to change.
  if (!stats.isDirectory() && !stats.isFile()) return 0
  let changed = 0
  // Nothing of synthex's is a program: a file keeps its owner's read and write bits only.
  const keep = stats.isDirectory() ? 0o7777 & ~SHARED_BITS : 0o600
  if ((stats.mode & 0o7777 & ~keep) !== 0) {
    chmodSync(path, stats.mode & keep)
    changed++
  }

  if (stats.isDirectory()) for (const name of readdirSync(path)) changed += makeTreePrivate(join(path, name))
  return changed
}

function sharedBits(path: string, follow: boolean): number {
  try {
    return (follow ? statSync(path) : lstatSync(path)).mode & SHARED_BITS
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0
    throw error
  }
}

/**
 * Checks, in a few stat calls, that $SYNTHEX_HOME and what synthex keeps in it are private,
 * and repairs them when they are not: the home itself (0700) and every file and directory of
 * synthex's under it. A file inside a private directory is out of reach whatever its mode, so
 * only the home, the data directory and the key file are looked at on every command.
 *
 * Returns the warning to show once, or undefined when there was nothing to repair. The home
 * itself is left alone when it holds files other than synthex's or is a shared directory
 * (sticky, like /tmp, or another user's): the warning then says so.
 */
export function repairHome(home: string, dataDir: string): string | undefined {
  const keyFile = join(home, 'encryption.key')
  const loose = sharedBits(home, true) | sharedBits(dataDir, true) | sharedBits(keyFile, false) | sharedBits(`${dataDir}.lock`, false)
  if (loose === 0) return undefined

  const homeStats = statSync(home)
  let changed = 0
  for (const name of readdirSync(home)) if (OWN_ENTRIES.test(name)) changed += makeTreePrivate(join(home, name))
  const entries = plural(changed, 'file or directory', 'files and directories')
  if ((homeStats.mode & SHARED_BITS) === 0) return `Files under ${home} could be read or written by other users; synthex made ${entries} private (chmod go-rwx).`

  const mode = `0${(homeStats.mode & 0o7777).toString(8)}`
  const others = readdirSync(home).filter((name) => !OWN_ENTRIES.test(name))
  const owned = typeof process.getuid !== 'function' || homeStats.uid === process.getuid()
  if (!owned || (homeStats.mode & 0o1000) !== 0 || others.length > 0) {
    const own = changed > 0 ? `; synthex made its own ${entries} in it private` : ''
    return `${home} (mode ${mode}) can be read by other users and is not synthex's alone, so it was left as it is${own}. Point SYNTHEX_HOME at a directory of its own.`
  }

  chmodSync(home, PRIVATE_DIR)
  const inside = changed > 0 ? `, and ${entries} in it` : ''
  return `${home} could be read by other users (mode ${mode}); synthex made it private (0700)${inside}. It holds the database and its encryption key: keep it so.`
}

function plural(count: number, one: string, many: string): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`
}
