/**
 * The path of a request target, without its query, with every run of slashes made one:
 * `/api//client/features` is `/api/client/features`. Unleash SDKs build their URLs by appending
 * `/client/features` to the base URL they are given, so a base URL with a trailing slash (as
 * `https://switchyard.example/api/` is usually written) asks for `/api//client/features`; a 404
 * there makes some SDKs stop fetching for good. Proxies such as nginx merge slashes the same way
 * by default. Used by everything that routes or labels requests (DeliveryHttpHandler, which also
 * rewrites `req.url` for Express, and HttpMetrics), so they agree.
 */
export function requestPath(url: string | undefined): string {
  if (url === undefined) return '';
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  return path.startsWith('/') && path.includes('//') ? path.replace(/\/{2,}/g, '/') : path;
}

/**
 * `url` with its path as `requestPath` gives it and its query as it was; `url` itself when nothing
 * changes, or when it is not in origin form (`/path`: an absolute-form target keeps its `//`).
 */
export function withMergedSlashes(url: string): string {
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  if (!path.startsWith('/') || !path.includes('//')) return url;
  return path.replace(/\/{2,}/g, '/') + (query < 0 ? '' : url.slice(query));
}
