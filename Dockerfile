# One image for every Threadstore process (api, worker, migrate, roles; the API serves the web app
# at /); docker-compose picks the command. Built the way turbo documents for monorepos: prune the
# workspace to what the apps need, install from the pruned lockfile (a layer cached until a
# dependency changes), then build.
# apps/launcher/src/image-build.test.ts runs these same steps without Docker.
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS base
ENV PNPM_HOME=/pnpm TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
ENV PATH=$PNPM_HOME:$PATH
RUN npm install --global pnpm@10.34.9

FROM base AS pruner
WORKDIR /app
COPY . .
RUN pnpm dlx turbo@2.11.11 prune @threadstore/api @threadstore/worker @threadstore/db @threadstore/web --docker

FROM base AS builder
WORKDIR /app
# Manifests and the pruned lockfile only: this layer is reused until a dependency changes.
COPY --from=pruner /app/out/json/ .
RUN pnpm install --frozen-lockfile
COPY --from=pruner /app/out/full/ .
COPY tsconfig.base.json ./
RUN pnpm exec turbo run build --filter=@threadstore/api --filter=@threadstore/worker --filter=@threadstore/db --filter=@threadstore/web

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=builder --chown=node:node /app /app
USER node
EXPOSE 3000
CMD ["node", "apps/api/dist/main.js"]
