// fetch cannot report how much of a request body has been sent; XMLHttpRequest can. The client
// takes a fetch of our choosing, so the page hands it this one: PUTs (the image to its presigned
// upload URL) go through XMLHttpRequest with upload progress, everything else through fetch.

export type UploadProgress = (sent: number, total: number) => void;

export function fetchWithUploadProgress(onUpload: UploadProgress): typeof fetch {
  return (input, init) => {
    if (init?.method !== 'PUT' || typeof input !== 'string') return fetch(input, init);
    return putWithProgress(input, init, onUpload);
  };
}

function putWithProgress(url: string, init: RequestInit, onUpload: UploadProgress): Promise<Response> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const signal = init.signal;
    if (signal?.aborted) return reject(signal.reason);
    xhr.open('PUT', url);
    new Headers(init.headers).forEach((value, name) => xhr.setRequestHeader(name, value));
    xhr.responseType = 'blob';
    xhr.upload.onprogress = (event) => onUpload(event.loaded, event.lengthComputable ? event.total : 0);
    xhr.onload = () => {
      signal?.removeEventListener('abort', abort);
      const nullBody = xhr.status === 204 || xhr.status === 205 || xhr.status === 304;
      resolve(new Response(nullBody ? null : (xhr.response as Blob), { status: xhr.status, statusText: xhr.statusText, headers: parseHeaders(xhr) }));
    };
    // A refused connection or a CORS refusal: fetch would reject with a TypeError too.
    xhr.onerror = () => reject(new TypeError(`the upload to ${url.split('?')[0]} failed (network or CORS)`));
    xhr.onabort = () => reject(signal?.reason ?? new DOMException('aborted', 'AbortError'));
    const abort = () => xhr.abort();
    signal?.addEventListener('abort', abort, { once: true });
    xhr.send((init.body ?? null) as XMLHttpRequestBodyInit | null);
  });
}

function parseHeaders(xhr: XMLHttpRequest): Headers {
  const headers = new Headers();
  for (const line of xhr.getAllResponseHeaders().trim().split(/[\r\n]+/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return headers;
}
