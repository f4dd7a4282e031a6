import {
  type AppConfig,
  ConfabMetrics,
  createValidationPipe,
  HttpExceptionFilter,
  JSON_TOO_DEEP_TYPE,
  jsonTextTooDeep,
} from '@app/common';
import { ConfabIoAdapter } from '@app/gateway';
import { openAiBodyErrors } from '@app/openai-api';
import { type INestApplication, RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import express, { json, type NextFunction, type Request, type Response } from 'express';
import compression from 'compression';
import helmet from 'helmet';
import { join } from 'node:path';
import { Logger } from 'nestjs-pino';
import { API_INDEX, API_VERSION } from './api-index.controller';
import { AppModule } from './app.module';
import { httpMetrics } from './metrics/http-metrics.middleware';

/** The largest JSON body accepted: room for the longest valid message with escaping. */
export const BODY_LIMIT = '1mb';
/** Sign-up, sign-in, refresh and password bodies are a few hundred bytes: no reason to read a megabyte unsigned-in. */
export const AUTH_BODY_LIMIT = '16kb';

/** Builds the whole server (HTTP and Socket.IO) without listening: `main` and the tests share it. */
export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: true,
    bodyParser: false,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  // No enableShutdownHooks(): SIGTERM drains first (see shutdown.ts, wired in main.ts), then closes the app.
  app.set('trust proxy', config.trustProxy);
  app.disable('x-powered-by');
  app.use(securityHeaders());
  app.use(httpMetrics(app.get(ConfabMetrics)));
  app.use(requireJsonBodies);
  // The first parser that reads a body wins (body-parser skips a request already read).
  app.use('/api/auth', jsonBodyParser(AUTH_BODY_LIMIT));
  app.use(jsonBodyParser(BODY_LIMIT));
  app.use('/v1', openAiBodyErrors);
  app.enableCors({
    origin: config.corsOrigins.includes('*') ? true : config.corsOrigins.length > 0 ? config.corsOrigins : false,
    credentials: false,
    exposedHeaders: ['Retry-After', 'X-Request-Id', 'X-Confab-Thread'],
  });
  app.setGlobalPrefix('api', {
    // The OpenAI-compatible API lives at /v1, where OpenAI clients expect it (`baseURL: "http://host:3000/v1"`).
    exclude: [
      { path: 'metrics', method: RequestMethod.GET },
      { path: 'v1/{*path}', method: RequestMethod.ALL },
    ],
  });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new HttpExceptionFilter());
  app.useWebSocketAdapter(new ConfabIoAdapter(app, config));
  setupOpenApi(app);
  if (config.webDir) {
    serveWebApp(app, config.webDir);
  } else {
    app.use('/', pointAtTheApi);
  }
  return app;
}

/** Paths the server answers itself: never the web app, never compressed by the static middleware (SSE). */
const NOT_WEB_APP = /^\/(api|v1|metrics|socket\.io)(\/|$)/;

/**
 * The web app's static files at `/`, compressed, and its index.html for client-side routes (anything not API).
 * Vite names built assets by content hash, so they are cached for a year; index.html is revalidated every time
 * so that a new release is picked up at the next load.
 */
function serveWebApp(app: NestExpressApplication, dir: string): void {
  // Only static files: compressing SSE would buffer the stream.
  const compress = compression();
  app.use((req: Request, res: Response, next: NextFunction) =>
    NOT_WEB_APP.test(req.path) ? next() : compress(req, res, next),
  );
  const files = express.static(dir, {
    index: false,
    setHeaders: (res, path) => {
      const hashed = /[\\/]assets[\\/]/.test(path);
      res.setHeader('Cache-Control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  // API requests must not wait on a file lookup: fs calls share libuv's small thread pool with bcrypt hashing.
  app.use((req: Request, res: Response, next: NextFunction) =>
    NOT_WEB_APP.test(req.path) ? next() : files(req, res, next),
  );
  const index = join(dir, 'index.html');
  app.use((req: Request, res: Response, next: NextFunction) => {
    if ((req.method === 'GET' || req.method === 'HEAD') && !NOT_WEB_APP.test(req.path) && req.accepts('html')) {
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(index);
      return;
    }
    next();
  });
}

/** JSON bodies up to `limit`, refused before parsing when they nest deeper than MAX_JSON_DEPTH. */
function jsonBodyParser(limit: string) {
  return json({
    limit,
    strict: true,
    verify: (_req, _res, buf) => {
      if (jsonTextTooDeep(buf)) {
        throw Object.assign(new Error('JSON nested too deeply'), { status: 400, type: JSON_TOO_DEEP_TYPE });
      }
    },
  });
}

/** Without a built web app, `GET /` says where the API is (in the contract's error shape), not "Cannot GET /". */
function pointAtTheApi(req: Request, res: Response, next: NextFunction): void {
  if (req.method !== 'GET' || req.path !== '/') {
    next();
    return;
  }
  const { docs, openai } = API_INDEX.links;
  res.status(404).json({
    statusCode: 404,
    error: 'not_found',
    message: `No web app is built on this server. The API is at /api (index: /api, docs: ${docs}); OpenAI-compatible: ${openai}`,
  });
}

/**
 * Helmet everywhere, with a strict Content-Security-Policy: scripts only from this origin and never inline, so
 * that a sanitizer slip in rendered Markdown still cannot run code; connections only to this origin (its
 * WebSocket included: CSP 3's 'self' covers ws: and wss: of the same host). Swagger UI sets inline styles, so
 * /api/docs alone may use them.
 */
function securityHeaders() {
  const directives = {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    fontSrc: ["'self'"],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  };
  const strict = helmet({
    contentSecurityPolicy: { useDefaults: false, directives },
    crossOriginEmbedderPolicy: false,
  });
  const docs = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { ...directives, styleSrc: ["'self'", "'unsafe-inline'"] },
    },
    crossOriginEmbedderPolicy: false,
  });
  return (req: Request, res: Response, next: NextFunction) =>
    (/^\/api\/docs(\/|$)/.test(req.path) ? docs : strict)(req, res, next);
}

/** A body in any other format would be parsed as nothing and silently ignored: refuse it instead. */
function requireJsonBodies(req: Request, res: Response, next: NextFunction): void {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && !req.is('application/json')) {
    res
      .status(415)
      .json({ statusCode: 415, error: 'validation_failed', message: 'Request bodies must be application/json' });
    return;
  }
  next();
}

function setupOpenApi(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('confab API')
      .setDescription('Self-hostable multi-user AI chat. Errors: { statusCode, error, message, details? }.')
      .setVersion(API_VERSION)
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });
}
