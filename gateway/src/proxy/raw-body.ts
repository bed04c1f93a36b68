import { Readable } from 'node:stream';

/**
 * A request body exactly as the client sent it, read completely (so the size limit is enforced before
 * anything reaches an upstream) and replayed as a stream: reply-from forwards a stream byte for byte,
 * whereas a parsed or buffered JSON body would be re-serialised.
 */
export class RawBody extends Readable {
  private sent = false;

  constructor(readonly bytes: Buffer) {
    super();
  }

  override _read(): void {
    if (!this.sent) {
      this.sent = true;
      if (this.bytes.length > 0) this.push(this.bytes);
    }
    this.push(null);
  }
}
