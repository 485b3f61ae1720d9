import type { IncomingMessage } from 'node:http';

/**
 * A request's body as UTF-8 text, counted as it arrives: past `maxBytes` it stops reading and
 * throws `tooLarge()`, so a chunked body without a declared length is cut off too.
 */
export async function readBodyText(req: IncomingMessage, maxBytes: number, tooLarge: () => Error): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
}
