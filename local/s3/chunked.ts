/**
 * A strict, incremental decoder of `Content-Encoding: aws-chunked` bodies, the framing the AWS SDKs
 * and the AWS CLI use for uploads (with trailing checksums by default):
 *
 * ```
 * <hex size>[;chunk-signature=<64 hex>]\r\n<size bytes>\r\n   … repeated
 * 0[;chunk-signature=<64 hex>]\r\n
 * [<trailer name>:<value>\r\n …]\r\n
 * ```
 *
 * (S3 API reference, "Signature calculations for the Authorization header: transferring payload in
 * multiple chunks" and "… trailing headers".) Anything else is refused: a size that is not 1 to 16
 * hex digits (a negative size once sent the old decoder into an endless loop), data not followed
 * by CRLF, bytes after the final CRLF, a body that ends early. Lines are bounded, so a body without
 * line breaks cannot make the decoder buffer without limit.
 *
 * Error codes: S3 documents `IncompleteBody` (400) for a body shorter than announced and
 * `MalformedTrailerError` (400) for bad trailers; for a malformed chunk-size line it documents
 * nothing. S3-compatible servers whose tests were checked against S3 answer `IncompleteBody`
 * with "The request body terminated unexpectedly" for it, as this does (not confirmed against
 * S3 here).
 */
import { S3Error } from './store';

/** Longest size or trailer line accepted (a size line with its signature is under 100 bytes). */
const MAX_LINE = 4096;
/** Most trailer lines accepted (the SDKs send one checksum, and a signature when signing). */
const MAX_TRAILERS = 16;
const SIZE_LINE = /^([0-9a-fA-F]{1,16})(;chunk-signature=[0-9a-f]{64})?$/;
const TRAILER_LINE = /^[A-Za-z0-9-]+:[\x20-\x7e]*$/;

export function incompleteBody(): S3Error {
  return new S3Error('IncompleteBody', 'The request body terminated unexpectedly', 400);
}

function malformedTrailer(): S3Error {
  return new S3Error('MalformedTrailerError', 'The request contained trailing data that was not well-formed or did not conform to our published schema.', 400);
}

export class AwsChunkedDecoder {
  private state: 'size' | 'data' | 'data-end' | 'trailer' | 'done' = 'size';
  /** Bytes of the current line (size, trailer, or the CRLF after data) not yet complete. */
  private line: Buffer = Buffer.alloc(0);
  private remaining = 0;
  private trailers = 0;

  /** @param onData receives the decoded content, in order */
  constructor(private readonly onData: (data: Buffer) => void) {}

  /** Feeds the next bytes of the body. @throws S3Error when the framing is malformed */
  public push(input: Buffer): void {
    let pos = 0;
    while (pos < input.length) {
      if (this.state === 'done') throw incompleteBody();
      if (this.state === 'data') {
        const take = Math.min(this.remaining, input.length - pos);
        this.onData(input.subarray(pos, pos + take));
        pos += take;
        this.remaining -= take;
        if (this.remaining === 0) this.state = 'data-end';
        continue;
      }
      // A line: the size line, a trailer line, or the CRLF that ends a chunk's data.
      const eol = input.indexOf(0x0a, pos);
      const end = eol < 0 ? input.length : eol + 1;
      this.line = Buffer.concat([this.line, input.subarray(pos, end)]);
      pos = end;
      if (this.line.length > MAX_LINE || (this.state === 'data-end' && this.line.length > 2)) {
        throw this.state === 'trailer' ? malformedTrailer() : incompleteBody();
      }
      if (eol < 0) continue;
      const line = this.line;
      this.line = Buffer.alloc(0);
      if (line.length < 2 || line[line.length - 2] !== 0x0d) {
        throw this.state === 'trailer' ? malformedTrailer() : incompleteBody();
      }
      this.endLine(line.subarray(0, line.length - 2).toString('latin1'));
    }
  }

  /** Called when the body has ended. @throws S3Error when it ended before the final chunk and its trailers */
  public end(): void {
    if (this.state !== 'done') throw incompleteBody();
  }

  private endLine(line: string): void {
    if (this.state === 'data-end') {
      if (line !== '') throw incompleteBody();
      this.state = 'size';
      return;
    }
    if (this.state === 'size') {
      const m = SIZE_LINE.exec(line);
      if (!m) throw incompleteBody();
      const size = parseInt(m[1], 16);
      if (!Number.isSafeInteger(size)) throw incompleteBody();
      this.remaining = size;
      this.state = size === 0 ? 'trailer' : 'data';
      return;
    }
    // Trailers, ended by an empty line.
    if (line === '') {
      this.state = 'done';
      return;
    }
    if (!TRAILER_LINE.test(line) || ++this.trailers > MAX_TRAILERS) throw malformedTrailer();
  }
}

/** Decodes a whole aws-chunked body held in memory. @throws S3Error when it is malformed */
export function decodeAwsChunked(raw: Buffer): Buffer {
  const out: Buffer[] = [];
  const decoder = new AwsChunkedDecoder((data) => out.push(data));
  decoder.push(raw);
  decoder.end();
  return Buffer.concat(out);
}
