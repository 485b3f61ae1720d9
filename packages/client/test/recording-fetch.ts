export interface RecordedRequest {
  url: string;
  method: string;
  headers: Headers;
}

/** The global fetch, noting every request it sends, so a test can count requests and read their headers. */
export function recordingFetch(): { fetch: typeof fetch; requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = [];
  return {
    requests,
    fetch: (input, init) => {
      const request = new Request(input, init);
      requests.push({ url: request.url, method: request.method, headers: request.headers });
      return fetch(request);
    },
  };
}
