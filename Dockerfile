# One image recipe for the three servers: docker-compose.yml builds it with SERVICE=auth-server,
# event-server or gateway. Multi-stage: the toolchain and dev dependencies never reach the final image.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc tsconfig.base.json ./
COPY libs/server-kit/package.json libs/server-kit/
COPY auth-server/package.json auth-server/
COPY event-server/package.json event-server/
COPY gateway/package.json gateway/
COPY sdk/package.json sdk/
RUN npm ci --no-audit --no-fund
COPY libs/server-kit libs/server-kit
ARG SERVICE
ARG PORT
# Built for one server at a time: docker-compose.yml passes both; by hand, say so rather than fail on a COPY.
RUN case "$SERVICE" in auth-server | event-server | gateway) ;; *) \
      echo "build with --build-arg SERVICE=auth-server|event-server|gateway and --build-arg PORT=<its port>," \
        "as docker-compose.yml does (SERVICE is '$SERVICE')" >&2; exit 1 ;; esac \
  && case "$PORT" in '' | *[!0-9]*) echo "build with --build-arg PORT=<the port $SERVICE listens on> (PORT is '$PORT')" >&2; exit 1 ;; esac
COPY ${SERVICE} ${SERVICE}
RUN npm run build -w libs/server-kit && npm run build -w ${SERVICE}

FROM ${NODE_IMAGE} AS runtime-deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY libs/server-kit/package.json libs/server-kit/
COPY auth-server/package.json auth-server/
COPY event-server/package.json event-server/
COPY gateway/package.json gateway/
COPY sdk/package.json sdk/
RUN npm ci --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ARG SERVICE
ARG PORT
# In a container a server listens on every interface (outside one its default is 127.0.0.1), so the image
# also serves under a plain `docker run -p`. SERVICE names the server, whose port variable the healthcheck reads.
ENV NODE_ENV=production \
    SERVICE=${SERVICE} \
    SERVICE_PORT=${PORT} \
    AUTH_HOST=0.0.0.0 \
    EVENT_HOST=0.0.0.0 \
    GATEWAY_HOST=0.0.0.0
WORKDIR /app
# The files stay root's: the server runs as `node`, which can read them but not change its own code.
COPY --from=runtime-deps /app/node_modules node_modules
COPY --from=runtime-deps /app/package.json package.json
COPY --from=build /app/libs/server-kit/package.json libs/server-kit/package.json
COPY --from=build /app/libs/server-kit/dist libs/server-kit/dist
COPY --from=build /app/${SERVICE}/package.json ${SERVICE}/package.json
COPY --from=build /app/${SERVICE}/dist ${SERVICE}/dist
# The gateway serves the committed merged OpenAPI document at /openapi.json and /docs.
COPY openapi/openapi.json openapi/openapi.json
RUN ln -s /app/${SERVICE}/dist/main.js /app/main.js
USER node
EXPOSE ${PORT}
# The port the server really listens on: its own variable (AUTH_PORT, EVENT_PORT or GATEWAY_PORT) when set at
# run time, else the one the image was built for.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "const own = { 'auth-server': 'AUTH_PORT', 'event-server': 'EVENT_PORT', gateway: 'GATEWAY_PORT' }[process.env.SERVICE]; fetch('http://127.0.0.1:' + (process.env[own] || process.env.SERVICE_PORT) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "/app/main.js"]
