import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Options of {@link registerConsoleRoutes}. */
export interface ConsoleRoutesOptions {
  token: string;
  /** The page's data, as `/api/snapshot` answers it. */
  snapshot: () => unknown;
  /** How often `/api/events` pushes a snapshot. */
  refreshMs: number;
}

const COOKIE = 'streamtrain_console';
const PUBLIC_DIR = join(__dirname, '..', '..', 'public');

/** Static files of the page: the console's own and uPlot's, read once from disk (no build step). */
function loadAssets(): Map<string, { type: string; body: Buffer }> {
  const uplot = dirname(require.resolve('uplot/package.json'));
  const files: [string, string, string][] = [
    ['/assets/console.js', join(PUBLIC_DIR, 'console.js'), 'text/javascript; charset=utf-8'],
    ['/assets/console.css', join(PUBLIC_DIR, 'console.css'), 'text/css; charset=utf-8'],
    [
      '/assets/uPlot.iife.min.js',
      join(uplot, 'dist', 'uPlot.iife.min.js'),
      'text/javascript; charset=utf-8',
    ],
    ['/assets/uPlot.min.css', join(uplot, 'dist', 'uPlot.min.css'), 'text/css; charset=utf-8'],
  ];
  return new Map(files.map(([route, file, type]) => [route, { type, body: readFileSync(file) }]));
}

function sameToken(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieToken(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie ?? '';
  for (const part of header.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === COOKIE) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

function bearerToken(request: FastifyRequest): string | undefined {
  const match = /^Bearer (.+)$/.exec(request.headers.authorization ?? '');
  return match?.[1];
}

/** Security headers of every console answer: nothing may be loaded from elsewhere. */
function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header(
      'content-security-policy',
      "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    )
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store');
}

/**
 * The operators' page and its JSON API. The page and every `/api` route need the token: as
 * `Authorization: Bearer <token>`, or once as `/?token=<token>`, which sets an HttpOnly,
 * SameSite=Strict cookie and redirects to `/` so the token leaves the address bar (the page's
 * EventSource cannot send headers). `/healthz`, `/readyz` and `/metrics` stay open, as on every
 * service, for probes and Prometheus.
 */
export function registerConsoleRoutes(
  app: FastifyInstance,
  options: ConsoleRoutesOptions,
): { closeStreams: () => void } {
  const streams = new Set<() => void>();
  const assets = loadAssets();
  const page = readFileSync(join(PUBLIC_DIR, 'index.html'));
  const login = readFileSync(join(PUBLIC_DIR, 'login.html'));
  const authorised = (request: FastifyRequest): boolean =>
    sameToken(bearerToken(request), options.token) ||
    sameToken(cookieToken(request), options.token);

  for (const [route, asset] of assets) {
    app.get(route, (_request, reply) =>
      secure(reply).header('content-type', asset.type).send(asset.body),
    );
  }

  app.get<{ Querystring: { token?: string } }>('/', (request, reply) => {
    secure(reply);
    const { token } = request.query;
    if (token !== undefined && sameToken(token, options.token)) {
      return reply
        .header(
          'set-cookie',
          `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
        )
        .redirect('/', 303);
    }
    if (!authorised(request)) {
      return reply.code(401).header('content-type', 'text/html; charset=utf-8').send(login);
    }
    return reply.header('content-type', 'text/html; charset=utf-8').send(page);
  });

  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/')) return;
    if (!authorised(request)) {
      await secure(reply)
        .code(401)
        .header('www-authenticate', 'Bearer realm="streamtrain-console"')
        .send({ error: 'unauthorised: send Authorization: Bearer <CONSOLE_TOKEN>' });
    }
  });

  app.get('/api/snapshot', (_request, reply) => secure(reply).send(options.snapshot()));

  app.get('/api/events', (request, reply) => {
    secure(reply);
    reply.hijack();
    const response = reply.raw;
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const push = (): void => {
      response.write(`event: snapshot\ndata: ${JSON.stringify(options.snapshot())}\n\n`);
    };
    push();
    const timer = setInterval(push, options.refreshMs);
    const close = (): void => {
      clearInterval(timer);
      streams.delete(close);
      response.end();
    };
    streams.add(close);
    request.raw.on('close', close);
  });

  return {
    closeStreams: () => {
      for (const close of [...streams]) close();
    },
  };
}
