import type { PolicyMethod, RouteOwner, RoutePolicy } from './route-policy.js';

export type RouteResolution =
  | { kind: 'found'; policy: RoutePolicy; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allowed: string[] }
  | { kind: 'not-found' }
  | { kind: 'encoded-unreserved' };

type Segment = { literal: string } | { param: string };

interface CompiledRoute {
  policy: RoutePolicy;
  segments: Segment[];
}

const LITERAL_SEGMENT = /^[A-Za-z0-9._~-]+$/;
const PARAM_SEGMENT = /^:([A-Za-z][A-Za-z0-9]*)$/;
// Control characters and path separators never belong inside one decoded path segment.
// eslint-disable-next-line no-control-regex
const UNSAFE_DECODED_PARAM = /[\u0000-\u001f\u007f/\\]/;
// A percent-encoded unreserved character (RFC 3986 §2.3: ALPHA DIGIT - . _ ~): %2D %2E %30-%39 %41-%5A
// %5F %61-%7A %7E, in either case.
const ENCODED_UNRESERVED = /%(?:2[DEde]|3[0-9]|4[1-9A-Fa-f]|5[0-9Aa]|5[Ff]|6[1-9A-Fa-f]|7[0-9Aa]|7[Ee])/;

/**
 * The path part of a request target, cut where the upstream's router (find-my-way) cuts it: at the
 * first `?` or `#`, so the policy is decided on the very path the upstream routes on.
 */
export function pathOfUrl(url: string): string {
  for (let index = 0; index < url.length; index++) {
    const char = url.charCodeAt(index);
    if (char === 63 || char === 35) return url.slice(0, index);
  }
  return url;
}

/**
 * Whether a path spells an unreserved character percent-encoded. The upstream's router decodes those
 * before matching (`/claims/%65xport` is its `/claims/export`), so such a path could be judged here as
 * one route and served there as another; no client needs to encode them (RFC 3986 §2.3), so they are
 * refused instead of being interpreted.
 */
export function hasEncodedUnreserved(path: string): boolean {
  return path.includes('%') && ENCODED_UNRESERVED.test(path);
}

function compile(policy: RoutePolicy): CompiledRoute {
  // A trailing slash only where a line names one (`/docs/`): it is then one more, empty, literal segment.
  if (!policy.path.startsWith('/') || policy.path === '/') {
    throw new Error(`route policy path "${policy.path}" must start with "/" and name something`);
  }
  const parts = policy.path.slice(1).split('/');
  const segments = parts.map((part, index): Segment => {
    if (part === '' && index === parts.length - 1) return { literal: '' };
    const param = PARAM_SEGMENT.exec(part);
    if (param) return { param: param[1] as string };
    if (!LITERAL_SEGMENT.test(part)) throw new Error(`route policy path "${policy.path}" has an invalid segment "${part}"`);
    return { literal: part };
  });
  return { policy, segments };
}

/**
 * A parameter matches one non-empty segment that stays one segment once decoded: no encoded slash,
 * no dot-segment, so a parameter can never walk the upstream's path.
 */
function paramValue(raw: string): string | undefined {
  if (raw.length === 0) return undefined;
  let decoded = raw;
  // Without a `%` there is nothing to decode (and nothing decodeURIComponent could refuse).
  if (raw.includes('%')) {
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
  }
  if (decoded === '.' || decoded === '..' || UNSAFE_DECODED_PARAM.test(decoded)) return undefined;
  return decoded;
}

function matchSegments(route: CompiledRoute, parts: string[]): Record<string, string> | undefined {
  const { segments } = route;
  if (parts.length !== segments.length) return undefined;
  // Literals first (a comparison each), so a route that differs in one costs no decoding and no object.
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index] as Segment;
    // Compared as sent: an encoded or differently-cased spelling of a literal is not that route.
    if ('literal' in segment && parts[index] !== segment.literal) return undefined;
  }
  const params: Record<string, string> = {};
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index] as Segment;
    if ('literal' in segment) continue;
    const value = paramValue(parts[index] as string);
    if (value === undefined) return undefined;
    params[segment.param] = value;
  }
  return params;
}

/** The route policy table, checked once and compiled for matching. */
export class RouteTable {
  private readonly routes: CompiledRoute[];
  /** The routes by their number of segments (in the same order): a path is only compared with those. */
  private readonly routesByLength = new Map<number, CompiledRoute[]>();

  constructor(readonly policies: readonly RoutePolicy[]) {
    // A literal segment wins over a parameter at the same place (`/claims/export` before `/claims/:id`),
    // whatever the order of the table's lines.
    const specificity = (route: CompiledRoute): string =>
      route.segments.map((segment) => ('literal' in segment ? '0' : '1')).join('');
    this.routes = policies.map(compile).sort((a, b) => specificity(a).localeCompare(specificity(b)));
    const lines = new Set<string>();
    const ownerOfShape = new Map<string, RouteOwner>();
    for (const route of this.routes) {
      const shape = route.segments.map((segment) => ('literal' in segment ? segment.literal : ':')).join('/');
      const line = `${route.policy.method} ${shape}`;
      if (lines.has(line)) throw new Error(`route policy table lists ${route.policy.method} ${route.policy.path} twice`);
      lines.add(line);
      // One path, one owner: the proxy registers each owner's paths for all of its methods.
      const owner = ownerOfShape.get(shape) ?? route.policy.upstream;
      if (owner !== route.policy.upstream) {
        throw new Error(`route policy path ${route.policy.path} is given to both ${owner} and ${route.policy.upstream}`);
      }
      ownerOfShape.set(shape, owner);
      const sameLength = this.routesByLength.get(route.segments.length) ?? [];
      sameLength.push(route);
      this.routesByLength.set(route.segments.length, sameLength);
    }
  }

  /**
   * Finds the policy for a request. The query string (and anything after `#`) is ignored; the path
   * must match a line exactly (a trailing slash, an empty or `..` segment, another case is another
   * path); a path with a percent-encoded unreserved character is refused whatever it names; HEAD is
   * treated as GET.
   */
  resolve(method: string, url: string): RouteResolution {
    const path = pathOfUrl(url);
    if (!path.startsWith('/')) return { kind: 'not-found' };
    if (hasEncodedUnreserved(path)) return { kind: 'encoded-unreserved' };
    const parts = path.slice(1).split('/');
    const wanted = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
    let allowed: Set<string> | undefined;
    for (const route of this.routesByLength.get(parts.length) ?? []) {
      const params = matchSegments(route, parts);
      if (!params) continue;
      if (route.policy.method === wanted) return { kind: 'found', policy: route.policy, params };
      allowed ??= new Set<string>();
      allowed.add(route.policy.method);
      if (route.policy.method === 'GET') allowed.add('HEAD');
    }
    return allowed ? { kind: 'method-not-allowed', allowed: [...allowed].sort() } : { kind: 'not-found' };
  }

  /** The paths an owner serves and the methods used on them, for registering its routes. */
  routesOf(owner: RouteOwner): { paths: string[]; methods: PolicyMethod[] } {
    const mine = this.policies.filter((policy) => policy.upstream === owner);
    return {
      paths: [...new Set(mine.map((policy) => policy.path))],
      methods: [...new Set(mine.map((policy) => policy.method))],
    };
  }
}
