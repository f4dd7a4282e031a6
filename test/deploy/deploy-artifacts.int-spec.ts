import { SOCKET_PING_INTERVAL_MS } from '@app/gateway';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  durationMs,
  hasCredentials,
  isSecretName,
  requiredInProduction,
  schemaVariables,
} from '../support/config-schema';

/**
 * The deployment files read as data and checked against the configuration schema: there is no Docker engine or AWS
 * account here, so these tests are what stands between a typo and a broken deploy.
 */
const root = process.cwd();
const read = (path: string) => readFileSync(resolve(root, path), 'utf8');
const VARIABLES = schemaVariables();
const REQUIRED = requiredInProduction();
const DEFAULT_GRACE_MS = 25_000;

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

/** The Dockerfile's instructions by stage (continuation lines joined, comments dropped). */
function dockerfileStages(text: string): { args: Record<string, string>; stages: Stage[] } {
  const logical = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword, rest] = /^(\w+)\s+(.*)$/.exec(line)!;
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const [, image, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest)!;
      const from = image.replace(
        /\$\{(\w+)\}/g,
        (_, v: string) => args[v] ?? stages.find((s) => s.name === v)?.name ?? v,
      );
      stages.push({ name: name ?? String(stages.length), from, instructions: [] });
    } else if (upper === 'ARG' && stages.length === 0) {
      const [name, value] = rest.split('=');
      args[name] = value;
    } else {
      stages.at(-1)?.instructions.push({ keyword: upper, args: rest });
    }
  }
  return { args, stages };
}

/** ENV instructions as name -> value (both `ENV A=1 B=2` and the legacy `ENV A 1`). */
function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of stage.instructions.filter((i) => i.keyword === 'ENV')) {
    for (const [, name, value] of args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) {
      env[name] = value.replace(/^"|"$/g, '');
    }
  }
  return env;
}

const composeFile = (path: string) =>
  parseYaml(read(path), { merge: true }) as {
    services: Record<string, Record<string, any>>;
    volumes?: Record<string, unknown>;
  };

/** `${NAME}`, `${NAME:-default}`, `${NAME:?message}` references in a compose value. */
const references = (value: string) => [...value.matchAll(/\$\{(\w+)(?::?[-?][^}]*)?\}/g)].map((m) => m[1]);

describe('deployment files', () => {
  it('should know the schema (sanity: the recorder sees the variables every file is checked against)', () => {
    expect(VARIABLES).toEqual(expect.arrayContaining(['PORT', 'JWT_SECRET', 'MONGODB_URI', 'SHUTDOWN_GRACE']));
    expect(REQUIRED).toEqual(['JWT_SECRET']);
    expect(schemaVariables({ PROVIDERS: 'openrouter' })).toEqual(
      expect.arrayContaining(['OPENROUTER_BASE_URL', 'OPENROUTER_API_KEY', 'OPENROUTER_MODELS']),
    );
    expect(VARIABLES).not.toContain('OPENROUTER_API_KEY');
  });

  describe('Dockerfile', () => {
    const { args, stages } = dockerfileStages(read('Dockerfile'));
    const runtime = stages.at(-1)!;
    const runtimeEnv = envOf(runtime);
    const of = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);

    it('should build on Node 24 LTS in several stages and ship a slim runtime stage', () => {
      expect(args.NODE_IMAGE).toMatch(/^node:24-(bookworm|trixie)-slim$/);
      expect(stages.length).toBeGreaterThanOrEqual(3);
      expect(runtime.from).toBe(args.NODE_IMAGE);
      const build = stages.find((s) => of(s, 'RUN').some((r) => /npm run build/.test(r.args)))!;
      expect(build).toBeDefined();
      expect(of(build, 'RUN').some((r) => /npm ci(?!.*--omit=dev)/.test(r.args))).toBe(true);
    });

    it('should hold production dependencies only, from a stage that installed them with --omit=dev', () => {
      const copies = of(runtime, 'COPY').map((c) => c.args);
      const modules = copies.filter((c) => /node_modules/.test(c));
      expect(modules).toHaveLength(1);
      const fromStage = /--from=(\S+)/.exec(modules[0])![1];
      const deps = stages.find((s) => s.name === fromStage)!;
      expect(of(deps, 'RUN').some((r) => /npm ci .*--omit=dev/.test(r.args))).toBe(true);
      expect(of(deps, 'RUN').some((r) => /npm run build/.test(r.args))).toBe(false);
      // The build output and the web app come from the build stage.
      expect(copies.some((c) => /--from=build\b.*\/app\/dist \.\/dist/.test(c))).toBe(true);
      expect(copies.some((c) => /--from=build\b.*apps\/web\/dist/.test(c))).toBe(true);
      expect(of(runtime, 'RUN').some((r) => /npm (ci|install)/.test(r.args))).toBe(false);
    });

    it('should run as a non-root user with NODE_ENV=production under an init process', () => {
      const user = of(runtime, 'USER').at(-1)?.args;
      expect(user).toBeDefined();
      expect(user).not.toMatch(/^(root|0)(:|$)/);
      expect(runtimeEnv.NODE_ENV).toBe('production');
      const entrypoint = JSON.parse(of(runtime, 'ENTRYPOINT').at(-1)!.args) as string[];
      expect(entrypoint[0]).toMatch(/tini$/);
      const cmd = JSON.parse(of(runtime, 'CMD').at(-1)!.args) as string[];
      const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.start;
      expect(`${cmd.join(' ')}`).toBe(start);
    });

    it('should set only schema variables, no secret, and expose the port it listens on', () => {
      for (const name of Object.keys(runtimeEnv)) {
        expect(VARIABLES).toContain(name);
        expect(isSecretName(name)).toBe(false);
      }
      expect(of(runtime, 'EXPOSE').map((e) => e.args)).toEqual([runtimeEnv.PORT]);
      expect(durationMs(runtimeEnv.SHUTDOWN_GRACE)).toBe(DEFAULT_GRACE_MS);
      expect(
        of(runtime, 'VOLUME')
          .map((v) => v.args)
          .join(),
      ).toContain(runtimeEnv.DATA_DIR);
    });

    it('should check readiness', () => {
      const health = of(runtime, 'HEALTHCHECK').at(-1)!.args;
      expect(health).toMatch(/--interval=\d+s/);
      expect(health).toContain('/api/health/ready');
      expect(health).toContain('process.env.PORT');
    });

    it('should keep local state, secrets and host builds out of the build context', () => {
      const ignored = read('.dockerignore')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#'));
      expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', 'data', '.git', '.env', '.env.*']));
      expect(ignored).toContain('!.env.example');
    });
  });

  describe.each([
    ['docker-compose.yml', 'scaled out'],
    ['docker-compose.single.yml', 'single node'],
  ])('%s (%s)', (file) => {
    const compose = composeFile(file);
    const apps = Object.entries(compose.services).filter(([, s]) => s.build === '.');
    const envExample = read('.env.example');

    it('should configure every replica from the schema, with the required variables from .env', () => {
      expect(apps.length).toBeGreaterThanOrEqual(1);
      for (const [, service] of apps) {
        const env = service.environment as Record<string, string | number>;
        for (const [name, value] of Object.entries(env)) {
          expect({ name, known: VARIABLES.includes(name) }).toEqual({ name, known: true });
          const text = String(value);
          if (isSecretName(name)) {
            // Never a value in the file: a reference to .env (or the shell) only.
            expect({ name, value: text }).toEqual({ name, value: expect.stringMatching(/^\$\{\w+(:?[-?][^}]*)?\}$/) });
          }
          expect(hasCredentials(text)).toBe(false);
          for (const ref of references(text).filter((r) => VARIABLES.includes(r))) {
            expect({ ref, inEnvExample: new RegExp(`^#? ?${ref}=`, 'm').test(envExample) }).toEqual({
              ref,
              inEnvExample: true,
            });
          }
        }
        for (const name of REQUIRED) {
          expect(String(env[name])).toMatch(new RegExp(`^\\$\\{${name}:\\?.+\\}$`));
        }
        expect(env.NODE_ENV).toBe('production');
        expect(service.env_file).toEqual(['.env']);
        expect(durationMs(service.stop_grace_period as string)).toBeGreaterThanOrEqual(
          durationMs(String(env.SHUTDOWN_GRACE).replace(/^\$\{\w+:-(.*)\}$/, '$1')) + 5000,
        );
      }
    });

    it('should health-check every service', () => {
      for (const [name, service] of Object.entries(compose.services)) {
        expect({ name, test: service.healthcheck?.test }).toEqual({ name, test: expect.any(Array) });
      }
      for (const [, service] of apps) {
        const port = String(service.environment.PORT);
        expect((service.healthcheck.test as string[]).join(' ')).toContain(`127.0.0.1:${port}/api/health/ready`);
      }
    });

    it('should pass `docker compose config` when a compose client is installed', () => {
      const client = composeClient();
      if (!client) {
        // CI installs one (.ci/run); a developer machine without it still gets every check above.
        expect(process.env.CI).not.toBe('true');
        return;
      }
      // A project folder as a self-hoster has it: the files, and .env copied from .env.example.
      const project = mkdtempSync(join(tmpdir(), 'confab-compose-'));
      for (const path of [file, 'Dockerfile', 'deploy/nginx/confab.conf']) {
        mkdirSync(dirname(join(project, path)), { recursive: true });
        copyFileSync(resolve(root, path), join(project, path));
      }
      const config = () =>
        spawnSync(client[0], [...client.slice(1), '-f', file, 'config'], {
          cwd: project,
          env: { PATH: process.env.PATH ?? '' },
          encoding: 'utf8',
        });
      writeFileSync(join(project, '.env'), `${envExample}\nJWT_SECRET=${'j'.repeat(40)}\n`);
      const ok = config();
      expect(ok.stderr).not.toMatch(/error|invalid/i);
      expect(ok.status).toBe(0);
      expect(ok.stdout).toContain('services:');
      writeFileSync(join(project, '.env'), envExample);
      const missing = config();
      expect(missing.status).not.toBe(0);
      expect(missing.stderr).toContain('set JWT_SECRET in .env');
    }, 60_000);
  });

  describe('docker-compose.yml (scaled out)', () => {
    const compose = composeFile('docker-compose.yml');
    const apps = Object.entries(compose.services).filter(([, s]) => s.build === '.');
    const nginx = read('deploy/nginx/confab.conf');

    it('should run two replicas on MongoDB (a replica set with a volume) and Redis', () => {
      expect(apps).toHaveLength(2);
      const { mongo, redis } = compose.services;
      expect(mongo.command).toEqual(expect.arrayContaining(['--replSet', 'rs0']));
      expect(mongo.volumes).toEqual([expect.stringMatching(/^mongo-data:\/data\/db$/)]);
      expect(mongo.healthcheck.test.join(' ')).toContain('rs.initiate');
      expect(compose.volumes).toHaveProperty('mongo-data');
      for (const [, app] of apps) {
        expect(app.environment.MONGODB_URI).toMatch(/^mongodb:\/\/mongo:27017\/\w+\?replicaSet=rs0$/);
        expect(app.environment.REDIS_URL).toBe('redis://redis:6379');
        expect(app.environment.TRUST_PROXY).toBe(1);
        expect(app.depends_on).toMatchObject({
          mongo: { condition: 'service_healthy' },
          redis: { condition: 'service_healthy' },
        });
        expect(app.ports).toBeUndefined(); // reached through the proxy only
      }
      expect(redis.healthcheck.test).toEqual(['CMD', 'redis-cli', 'ping']);
    });

    it('should proxy to every replica on its port with WebSocket upgrade, no buffering and long timeouts', () => {
      const upstream = /upstream confab \{([^}]*)\}/.exec(nginx)![1];
      const servers = [...upstream.matchAll(/server (\S+):(\d+)/g)].map((m) => `${m[1]}:${m[2]}`);
      expect(servers.sort()).toEqual(apps.map(([name, s]) => `${name}:${s.environment.PORT}`).sort());
      expect(upstream).toContain('ip_hash'); // the polling fallback sticks to one replica
      expect(nginx).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
      expect(nginx).toMatch(/proxy_set_header Connection \$connection_upgrade;/);
      expect(nginx).toContain('proxy_buffering off;');
      const readTimeout = durationMs(/proxy_read_timeout (\w+);/.exec(nginx)![1]);
      expect(readTimeout).toBeGreaterThan(SOCKET_PING_INTERVAL_MS + 20_000);
      expect(readTimeout).toBeGreaterThan(durationMs('15s') * 2);
      const proxy = compose.services.proxy;
      expect(proxy.volumes[0]).toMatch(/^\.\/deploy\/nginx\/confab\.conf:/);
      // Metrics are scraped inside the network, never through the public proxy.
      expect(nginx).toMatch(/location = \/metrics \{\s*[^}]*return 404;/);
      for (const [, app] of apps) {
        expect(app.expose).toContain(String(app.environment.METRICS_PORT));
      }
    });
  });

  describe('docker-compose.single.yml (single node)', () => {
    it('should keep the SQLite database in a volume and need neither MongoDB nor Redis', () => {
      const { services, volumes } = composeFile('docker-compose.single.yml');
      expect(Object.keys(services)).toEqual(['confab']);
      const { environment, volumes: mounts, ports } = services.confab;
      expect(environment.MONGODB_URI).toBeUndefined();
      expect(environment.REDIS_URL).toBeUndefined();
      expect(mounts).toEqual([`confab-data:${environment.DATA_DIR}`]);
      expect(volumes).toHaveProperty('confab-data');
      expect(ports).toEqual([expect.stringMatching(new RegExp(`:${environment.PORT}$`))]);
    });
  });

  describe('AWS ECS (deploy/aws)', () => {
    /** The templates' ${PLACEHOLDERS} filled as the deploy workflow's envsubst does. */
    const template = (path: string) => {
      const text = read(path);
      const placeholders = [...new Set([...text.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]))];
      return { json: JSON.parse(text.replace(/\$\{(\w+)\}/g, 'x')), placeholders };
    };
    const task = template('deploy/aws/task-definition.json').json;
    const container = task.containerDefinitions[0];
    const service = template('deploy/aws/service-definition.json').json;
    const targetGroup = template('deploy/aws/target-group.json').json;
    const tgAttributes = Object.fromEntries(
      (template('deploy/aws/target-group-attributes.json').json.Attributes as { Key: string; Value: string }[]).map(
        (a) => [a.Key, a.Value],
      ),
    );
    const lbAttributes = Object.fromEntries(
      (template('deploy/aws/load-balancer-attributes.json').json.Attributes as { Key: string; Value: string }[]).map(
        (a) => [a.Key, a.Value],
      ),
    );
    const env = Object.fromEntries(
      (container.environment as { name: string; value: string }[]).map((e) => [e.name, e.value]),
    );
    const secrets = (container.secrets as { name: string; valueFrom: string }[]).map((s) => s.name);
    const port = Number(env.PORT);
    const graceMs = durationMs(env.SHUTDOWN_GRACE);

    it('should be a Fargate task that sets only schema variables, each once', () => {
      expect(task.requiresCompatibilities).toEqual(['FARGATE']);
      expect(task.networkMode).toBe('awsvpc');
      const names = [...Object.keys(env), ...secrets];
      // With PROVIDERS set, its <NAME>_* variables are schema variables too.
      const known = env.PROVIDERS ? schemaVariables({ PROVIDERS: env.PROVIDERS }) : VARIABLES;
      expect(new Set(names).size).toBe(names.length);
      for (const name of names) {
        expect({ name, known: known.includes(name) }).toEqual({ name, known: true });
      }
      expect(env.NODE_ENV).toBe('production');
      expect(env.TRUST_PROXY).toBe('1');
    });

    it('should take every secret from SSM Parameter Store or Secrets Manager, never in plain text', () => {
      for (const name of [...REQUIRED, 'MONGODB_URI', 'REDIS_URL', 'OPENAI_API_KEY', 'METRICS_TOKEN']) {
        expect(secrets).toContain(name);
      }
      for (const [name, value] of Object.entries(env)) {
        expect({ name, secret: isSecretName(name) || hasCredentials(value) }).toEqual({ name, secret: false });
      }
      for (const { valueFrom } of container.secrets as { valueFrom: string }[]) {
        expect(valueFrom).toMatch(/^arn:aws:(ssm:[^:]+:[^:]+:parameter\/|secretsmanager:[^:]+:[^:]+:secret:)/);
      }
    });

    it('should use one port and one readiness check from the container to the load balancer', () => {
      const http = container.portMappings.find((p: { name: string }) => p.name === 'http');
      expect(http.containerPort).toBe(port);
      expect(container.portMappings.map((p: { containerPort: number }) => p.containerPort)).toContain(
        Number(env.METRICS_PORT),
      );
      expect(container.healthCheck.command.join(' ')).toContain(`127.0.0.1:${port}/api/health/ready`);
      expect(service.loadBalancers).toEqual([
        expect.objectContaining({ containerName: container.name, containerPort: port }),
      ]);
      expect(targetGroup).toMatchObject({ Port: port, TargetType: 'ip', HealthCheckPath: '/api/health/ready' });
      expect(service.healthCheckGracePeriodSeconds).toBeGreaterThanOrEqual(container.healthCheck.startPeriod);
      expect(service.taskDefinition).toBe(task.family);
    });

    it('should give the drain room: stopTimeout and the deregistration delay cover SHUTDOWN_GRACE', () => {
      // ECS deregisters the task (in-flight streams may go on for the delay), then sends SIGTERM and waits stopTimeout.
      expect(container.stopTimeout * 1000).toBeGreaterThanOrEqual(graceMs + 5000);
      expect(container.stopTimeout).toBeLessThanOrEqual(120); // Fargate's maximum
      expect(Number(tgAttributes['deregistration_delay.timeout_seconds']) * 1000).toBeGreaterThanOrEqual(graceMs);
      expect(container.linuxParameters.initProcessEnabled).toBe(true);
    });

    it('should keep streams open through the ALB and stick polling clients to one task', () => {
      const idleMs = Number(lbAttributes['idle_timeout.timeout_seconds']) * 1000;
      expect(idleMs).toBeGreaterThan(durationMs(env.SSE_PING_INTERVAL) * 2);
      expect(idleMs).toBeGreaterThan(SOCKET_PING_INTERVAL_MS * 2);
      expect(tgAttributes).toMatchObject({ 'stickiness.enabled': 'true', 'stickiness.type': 'lb_cookie' });
    });

    it('should be rolled out by the deploy workflow with the container the templates name', () => {
      const workflow = parseYaml(read('.github/workflows/deploy.yml')) as {
        jobs: Record<string, { steps: { uses?: string; run?: string; with?: Record<string, unknown> }[] }>;
      };
      const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);
      const uses = (action: string) => steps.find((s) => s.uses?.startsWith(action));
      expect(uses('aws-actions/amazon-ecr-login')).toBeDefined();
      expect(steps.some((s) => /docker buildx build --push/.test(s.run ?? ''))).toBe(true);
      expect(steps.some((s) => (s.run ?? '').includes('envsubst < deploy/aws/task-definition.json'))).toBe(true);
      expect(uses('aws-actions/amazon-ecs-render-task-definition')?.with).toMatchObject({
        'container-name': container.name,
      });
      expect(uses('aws-actions/amazon-ecs-deploy-task-definition')?.with).toMatchObject({
        'wait-for-service-stability': true,
      });
      expect(existsSync(resolve(root, 'deploy/aws/README.md'))).toBe(true);
    });
  });
});

/** `docker compose` (v2 plugin) or `docker-compose` (v1), whichever answers; null when neither is installed. */
function composeClient(): string[] | null {
  for (const candidate of [['docker', 'compose'], ['docker-compose']]) {
    const probe = spawnSync(candidate[0], [...candidate.slice(1), 'version'], { encoding: 'utf8' });
    if (probe.status === 0) {
      return candidate;
    }
  }
  return null;
}
