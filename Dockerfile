# One image for every Threadstore process (api, worker, migrate); docker-compose picks the command.
FROM node:24-slim AS build
WORKDIR /app
RUN npm install --global pnpm@10.34.9
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json ./
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
COPY apps/launcher/package.json apps/launcher/
COPY packages/db/package.json packages/db/
COPY packages/runtime/package.json packages/runtime/
RUN pnpm install --frozen-lockfile
COPY . .
RUN pnpm exec turbo run build --filter=@threadstore/api --filter=@threadstore/worker --filter=@threadstore/db

FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app /app
USER node
EXPOSE 3000
CMD ["node", "apps/api/dist/main.js"]
