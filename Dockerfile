# Unified Limit Checker: build with the dev toolchain, run with production dependencies only.
#   docker build -t unified-limit-checker .
#   docker run --rm -p 8080:8080 -v ulc-data:/app/data unified-limit-checker
# (the named volume keeps the journal and snapshots; `--rm` deletes an anonymous one)
# Another config: mount it and pass --config (HOST and PORT from the environment still win):
#   docker run --rm -p 8080:8080 -v ulc-data:/app/data -v "$PWD/my.yaml:/etc/ulc/config.yaml:ro" \
#     unified-limit-checker node dist/server.js --config /etc/ulc/config.yaml

# ---- build: TypeScript -> dist/ -------------------------------------------------------
FROM node:24-slim AS build
WORKDIR /app
# The lock file first, so the dependency layer is cached until it changes. Install scripts
# follow package.json#allowScripts (npm >= 11.16): the `node` devDependency's preinstall runs
# (it fetches the Node 24 that npm scripts use), protobufjs's is denied.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: dist/ + production dependencies + config/ ----------------------------------
FROM node:24-slim AS runtime
# NODE_OPTIONS: the Node flags npm start uses (package.json config.nodeFlags, kept equal by a
# test): a young generation of at most 16 MB a semi-space, so that a young-generation
# collection, which stops the event loop while it copies what survives, stays short (see
# README "Young generation"). In the environment, so a --config override of CMD keeps it.
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=16 \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
# Production dependencies only: no TypeScript, vitest, eslint, and no `node` devDependency
# (the image's own Node 24 runs the service).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
    && npm cache clean --force
COPY --from=build /app/dist ./dist
# The embedded default (dist/server.js reads ../config/default.yaml = /app/config/default.yaml).
COPY config ./config
# Code and config stay root-owned and read-only to the service; only its data directory
# (storage.dataDir, ./data by default) is writable.
RUN mkdir -p /app/data && chown node:node /app/data
# The journal and snapshots outlive the container: a volume, which starts as this directory
# (owned by node). `docker run -v ulc-data:/app/data` names it; `--rm` deletes an anonymous one.
VOLUME ["/app/data"]
# `node` (uid 1000) is the unprivileged user of the official Node images.
USER node
EXPOSE 8080
# Liveness: node:24-slim has no curl, so Node's own fetch.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node is PID 1: dist/server.js handles SIGTERM/SIGINT (drains in-flight requests for up to
# server.shutdownTimeoutMs, writes a last snapshot, flushes traces): give `docker stop -t` more.
CMD ["node", "dist/server.js"]
