# Portcullis in a container: `docker build -t portcullis .`, then see deploy/compose.yaml and
# docs/deployment.md. The state (the SQLite file and its key-encryption key file) lives in /data.

# Build: compile src/ to dist/ (JavaScript; no type stripping at run time).
FROM node:24-bookworm-slim AS build
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# Run: production dependencies and dist/ only.
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    PORTCULLIS_DATABASE=/data/portcullis.db \
    PORTCULLIS_INITIAL_ADMIN_PASSWORD_FILE=/data/initial-admin-password
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /build/dist ./dist
COPY scripts/check-node.cjs ./scripts/check-node.cjs
# The image's unprivileged `node` user (uid 1000) owns the data and nothing else.
RUN mkdir -p /data && chown node:node /data && chmod 0700 /data
USER node
VOLUME ["/data"]
EXPOSE 3000
# /readyz: the process answers and so does its database.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form, node itself: Node is PID 1 and gets SIGTERM from `docker stop`, and shuts down gracefully.
CMD ["node", "dist/cli/bin.js", "start"]
