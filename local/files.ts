import * as fs from 'fs';

/**
 * Puts `from`'s content at `to` without copying bytes when it can: a hard link. Every file the
 * local provider shares this way (RDB files of snapshots, S3 objects, seeds) is written once and
 * never changed in place (redis-server saves to a temporary file and renames it), so sharing the
 * inode is safe. Falls back to a copy across filesystems.
 */
export function linkOrCopy(from: string, to: string): void {
  fs.rmSync(to, { force: true });
  try {
    fs.linkSync(from, to);
  } catch {
    fs.copyFileSync(from, to);
  }
}
