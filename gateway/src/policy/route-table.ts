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
  /** Per segment, what it must equal as sent, or null for a parameter (one array read per segment when matching). */
  literals: Array<string | null>;
  /** Per segment, the parameter's name, or null for a literal. */
  paramNames: Array<string | null>;
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
  return {
    policy,
    segments,
    literals: segments.map((segment) => ('literal' in segment ? segment.literal : null)),
    paramNames: segments.map((segment) => ('param' in segment ? segment.param : null)),
  };
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

/** The parameters of a path of the route's length whose first segment the route accepts, or undefined if it does not match. */
function matchSegments(route: CompiledRoute, parts: string[]): Record<string, string> | undefined {
  const { literals, paramNames } = route;
  if (parts.length !== literals.length) return undefined;
  // Literals first (a comparison each), so a route that differs in one costs no decoding and no object.
  for (let index = 0; index < literals.length; index++) {
    const literal = literals[index];
    // Compared as sent: an encoded or differently-cased spelling of a literal is not that route.
    if (literal !== null && parts[index] !== literal) return undefined;
  }
  const params: Record<string, string> = {};
  for (let index = 0; index < paramNames.length; index++) {
    const name = paramNames[index];
    if (name === null) continue;
    const value = paramValue(parts[index] as string);
    if (value === undefined) return undefined;
    params[name] = value;
  }
  return params;
}

const NO_ROUTES: readonly CompiledRoute[] = [];

/**
 * The segments of a path that starts with `/` (what `path.slice(1).split('/')` gives), cut with indexOf: this
 * runs for every request, and the slice then split of a fresh string cost about three times as much.
 */
export function segmentsOf(path: string): string[] {
  const parts: string[] = [];
  let from = 1;
  for (;;) {
    const to = path.indexOf('/', from);
    if (to === -1) {
      parts.push(path.slice(from));
      return parts;
    }
    parts.push(path.slice(from, to));
    from = to + 1;
  }
}

/** The route policy table, checked once and compiled for matching. */
export class RouteTable {
  private readonly routes: CompiledRoute[];
  /**
   * The routes a path may match, in the table's order of specificity, by the path's number of segments and then
   * its first segment as sent: those whose first segment is that literal or a parameter. A path is compared
   * with those only (this runs for every request: on the gateway's busiest path, a lookup rather than a walk
   * over every route of the same length).
   */
  private readonly byLengthAndFirst = new Map<number, Map<string, CompiledRoute[]>>();
  /** By number of segments, the routes whose first segment is a parameter: a path whose first segment no literal names. */
  private readonly paramFirstByLength = new Map<number, CompiledRoute[]>();

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
    }
    // Each first literal's list, then each route in order into the lists it belongs to: a route whose first
    // segment is a parameter into every list of its length, so every list keeps the table's order.
    for (const route of this.routes) {
      const first = route.literals[0];
      if (first === null || first === undefined) continue;
      const ofLength = this.byLengthAndFirst.get(route.literals.length) ?? new Map<string, CompiledRoute[]>();
      ofLength.set(first, []);
      this.byLengthAndFirst.set(route.literals.length, ofLength);
    }
    for (const route of this.routes) {
      const first = route.literals[0];
      const ofLength = this.byLengthAndFirst.get(route.literals.length);
      if (first !== null && first !== undefined) {
        ofLength?.get(first)?.push(route);
        continue;
      }
      for (const routes of ofLength?.values() ?? []) routes.push(route);
      const paramFirst = this.paramFirstByLength.get(route.literals.length) ?? [];
      paramFirst.push(route);
      this.paramFirstByLength.set(route.literals.length, paramFirst);
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
    const parts = segmentsOf(path);
    const upper = method.toUpperCase();
    const wanted = upper === 'HEAD' ? 'GET' : upper;
    const candidates =
      this.byLengthAndFirst.get(parts.length)?.get(parts[0] as string) ?? this.paramFirstByLength.get(parts.length) ?? NO_ROUTES;
    let allowed: Set<string> | undefined;
    for (const route of candidates) {
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
