# confab: one image for every deployment (docker compose, AWS ECS/Fargate, any container runtime).
# Build: docker build -t confab .   Run: docker run -p 3000:3000 -e JWT_SECRET=... -v confab-data:/data confab
# No BuildKit-only syntax, so every builder can build it (the manifests are copied first: their layers stay cached).
# Stages: `build` compiles the server (and the web app when apps/web exists) with every dependency; `deps` installs
# the production dependencies alone (native addons compiled for this image); `runtime` holds only those two results.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS toolchain
# node-gyp's needs, for bcrypt and better-sqlite3 when no prebuilt binary matches the platform.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app

FROM toolchain AS build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# `npm run build` builds the server and, once it exists, the web app into apps/web/dist; the folder is made either
# way so that the runtime stage can copy it (the server serves it only when it holds an index.html).
RUN npm run build && mkdir -p apps/web/dist

FROM toolchain AS deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
# tini as PID 1: forwards SIGTERM to Node (which then drains, see SHUTDOWN_GRACE) and reaps zombies.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/* \
  && mkdir -p /data \
  && chown node:node /data
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data \
    SHUTDOWN_GRACE=25s
WORKDIR /app
COPY --chown=node:node package.json package-lock.json ./
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/apps/web/dist ./apps/web/dist
USER node
VOLUME ["/data"]
EXPOSE 3000
# Ready, not just alive: 503 while the database is down and from the first moment of a drain.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/api/health/ready`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/apps/api/apps/api/src/main.js"]
