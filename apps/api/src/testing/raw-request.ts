import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/**
 * One request on its own connection, with the body written exactly as given (several chunks
 * and no Content-Length make it chunked). Resolves as soon as the response is complete, even
 * if the server did not read the whole body.
 */
export function sendRaw(
  url: string,
  {
    method = 'POST',
    headers = {},
    chunks = [],
  }: { method?: string; headers?: Record<string, string>; chunks?: string[] },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    // The server may answer and close before taking the rest of a body it refuses.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' ? undefined : reject(error)));
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}
