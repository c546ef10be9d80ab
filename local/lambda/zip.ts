/**
 * Unpacks a function's .zip with yauzl (no native code, two small dependencies, ~120 M weekly
 * downloads; the reader extract-zip and Electron's tooling use). yauzl refuses entry names that are
 * absolute or climb out with `..`, checks each entry's size and CRC-32 as it streams, and reads
 * the central directory rather than trusting local headers. Symbolic links are written as plain
 * files (their target as content), so nothing in the folder points outside it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { pipeline } from 'stream/promises';
import * as yauzl from 'yauzl';

/** Lambda's limit on a function's unpacked code: 250 MB (developer guide, "Lambda quotas", 262,144,000 bytes). */
export const MAX_UNZIPPED = 262_144_000;

/** The .zip is not one, or not one Lambda takes. */
export class ZipError extends Error {}

function open(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: true }, (e, zip) => (e ? reject(new ZipError(e.message)) : resolve(zip)));
  });
}

/** Unpacks `file` into the new folder `dir`; on failure the caller removes `dir`. */
export async function unpackZip(file: string, dir: string): Promise<void> {
  const zip = await open(file);
  fs.mkdirSync(dir, { recursive: true });
  let total = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', (e: Error) => reject(new ZipError(e.message)));
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        void (async () => {
          total += entry.uncompressedSize;
          if (total > MAX_UNZIPPED) throw new ZipError(`Unzipped size must be smaller than ${MAX_UNZIPPED} bytes`);
          const target = path.join(dir, entry.fileName);
          if (entry.fileName.endsWith('/')) {
            fs.mkdirSync(target, { recursive: true });
          } else {
            fs.mkdirSync(path.dirname(target), { recursive: true });
            const stream = await new Promise<NodeJS.ReadableStream>((res, rej) => {
              zip.openReadStream(entry, (e, s) => (e ? rej(new ZipError(e.message)) : res(s)));
            });
            // Executable entries stay executable (the Unix mode is in the high 16 bits of the external attributes).
            // eslint-disable-next-line no-bitwise
            const mode = (entry.externalFileAttributes >>> 16) & 0o111 ? 0o755 : 0o644;
            await pipeline(stream, fs.createWriteStream(target, { mode }));
          }
          zip.readEntry();
        })().catch((e) => {
          zip.close();
          reject(e instanceof ZipError ? e : new ZipError((e as Error).message));
        });
      });
      zip.readEntry();
    });
  } catch (e) {
    if (zip.isOpen) zip.close();
    throw e;
  }
}
