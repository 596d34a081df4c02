# syntax=docker/dockerfile:1
# The image of one service, catalog or audit, named by the build argument SERVICE. The build context is
# the repository root (the npm workspace):
#   docker build --build-arg SERVICE=catalog -t <registry>.azurecr.io/catalog:1.0.0 .
#   docker build --build-arg SERVICE=audit -t <registry>.azurecr.io/audit:1.0.0 .
# `npm run test:k8s` builds both with buildah (tools/cluster/images.ts) and runs them on a local cluster.
# Node.js 26, the Active LTS line (Node 20 reached its end of life on 2026-04-30). CI runs the unit and
# integration tests on this exact version too (.ci/run).
ARG NODE_VERSION=26.10.0
# catalog or audit. No default: a build that does not say which service it is fails.
ARG SERVICE

# 1. Compile TypeScript (all dependencies, install scripts skipped: only tsc runs here). SERVICE is declared
#    after the install, so both services' builds share its layer.
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
COPY common/package.json common/
COPY catalog/package.json catalog/
COPY audit/package.json audit/
RUN npm ci --ignore-scripts --no-audit --no-fund
ARG SERVICE
RUN case "$SERVICE" in catalog|audit) ;; *) echo "SERVICE must be catalog or audit (--build-arg SERVICE=...), not '$SERVICE'" >&2; exit 1;; esac
COPY common/ common/
COPY ${SERVICE}/ ${SERVICE}/
RUN npx tsc -b common ${SERVICE}

# 2. Production dependencies of the service's workspace only (no TypeScript, no test tools). None of them
#    builds anything at install time, so no install script runs and no compiler is needed.
FROM node:${NODE_VERSION}-bookworm-slim AS deps
ARG SERVICE
WORKDIR /app
COPY package.json package-lock.json ./
COPY common/package.json common/
COPY catalog/package.json catalog/
COPY audit/package.json audit/
RUN npm ci --omit=dev --ignore-scripts --workspace ${SERVICE} --no-audit --no-fund && npm cache clean --force

# 3. Runtime: slim base, files owned by root and read-only to the app, runs as the non-root user node
#    (uid 1000, the runAsUser of the Kubernetes manifests).
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ARG SERVICE
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app /app
COPY --from=build /src/common/dist common/dist
COPY --from=build /src/${SERVICE}/dist ${SERVICE}/dist
USER node
WORKDIR /app/${SERVICE}
# The service listens on PORT, or on its own default (the PORT default of its config: catalog 5001,
# audit 5002), which the health check tells apart by the working directory, the service's folder.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 CMD ["node", "-e", "const port = process.env.PORT || { catalog: 5001, audit: 5002 }[require('node:path').basename(process.cwd())]; fetch('http://127.0.0.1:' + port + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]
