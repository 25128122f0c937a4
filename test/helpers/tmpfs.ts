import {execFileSync} from 'node:child_process'
import {closeSync, fstatSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync} from 'node:fs'
import {join} from 'node:path'

import {inject} from 'vitest'

/** A small file system of its own (tmpfs, mounted by the test: it runs as root) to fill up or make read-only. */
export interface Tmpfs {
  /** Writes a filler file until the file system is full, then frees `leaveBytes` of it again. */
  fill(leaveBytes?: number): void
  readonly path: string
  /** Removes the filler: the space is back. */
  release(): void
  /** Remounts it read-only (`rw`: read-write again). */
  remount(mode: 'ro' | 'rw'): void
  unmount(): void
}

export function mountTmpfs(sizeMiB: number): Tmpfs {
  if (process.getuid?.() !== 0) throw new Error('The storage-fault tests mount small tmpfs file systems to fill and make read-only, which needs root: run npm test as root (CI does).')
  const path = mkdtempSync(join(inject('scratch'), 'tmpfs-'))
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0700`, 'tmpfs', path])
  const filler = join(path, 'filler')
  return {
    fill(leaveBytes = 0) {
      const fd = openSync(filler, 'w')
      try {
        const block = Buffer.alloc(1 << 20)
        let size = block.length
        // Smaller and smaller writes, down to one byte: no room is left at all.
        while (size > 0) {
          try {
            writeSync(fd, block, 0, size)
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
            size = Math.floor(size / 2)
          }
        }

        if (leaveBytes > 0) ftruncateSync(fd, Math.max(0, fstatSync(fd).size - leaveBytes))
      } finally {
        closeSync(fd)
      }
    },
    path,
    release() {
      rmSync(filler, {force: true})
    },
    remount(mode) {
      execFileSync('mount', ['-o', `remount,${mode}`, path])
    },
    unmount() {
      execFileSync('umount', ['-l', path])
      rmSync(path, {force: true, recursive: true})
    },
  }
}
