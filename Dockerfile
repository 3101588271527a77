# Assay container image. No build step: the TypeScript sources run through tsx (a production
# dependency) exactly as in development.
#
#   docker build -t assay .
#   docker run -p 8000:8000 -e JWT_SECRET=... -v assay-data:/data assay      # embedded PGlite
#   docker compose up -d                                                      # Postgres + Redis
#
# The code sandbox runs programs in bubblewrap, which needs unprivileged user namespaces and a
# fresh /proc. Docker's defaults forbid both, and this image does not (cannot) change that: the
# container that runs jobs (`assay serve` with workers, or `assay worker`) must be started with
#   --security-opt seccomp=unconfined      (the default seccomp profile only allows clone/unshare
#                                          with CLONE_NEWUSER, mount and pivot_root to holders of
#                                          CAP_SYS_ADMIN; a stricter alternative is a copy of
#                                          Docker's default profile that also allows those calls,
#                                          passed as seccomp=/path/to/profile.json)
#   --security-opt systempaths=unconfined  (Docker masks parts of /proc; the kernel then refuses
#                                          the new procfs that bwrap mounts for its PID namespace)
#   --security-opt apparmor=unconfined     (AppArmor hosts such as Ubuntu and Debian: the
#                                          docker-default profile denies mount; on Ubuntu 23.10+
#                                          the host may also need
#                                          sysctl kernel.apparmor_restrict_unprivileged_userns=0
#                                          or an AppArmor profile that allows userns)
# SELinux hosts may need --security-opt label=disable (or label=type:spc_t) instead. Without these
# the service still runs, but `assay doctor` and /health report the sandbox as down and coding
# challenges cannot be judged. The API-only role (`serve --no-workers`) needs none of them.
# Never use --privileged for this.

ARG NODE_IMAGE=node:22-bookworm-slim

# ---- deps: production node_modules and the prepared PGlite template ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NODE_ENV=production
# Install from the lockfile alone first, so this layer is reused until dependencies change.
# Scripts are skipped here because the package's own postinstall needs scripts/ and src/.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
# `npm rebuild` then runs every install script that was skipped: the dependencies' own (argon2 and
# esbuild check or select their prebuilt binaries) and the package's postinstall, which builds the
# empty PGlite cluster in node_modules/.cache/assay that new DATA_DIRs are copied from.
# The postinstall never fails on its own; here a missing template is a build error rather than a
# slow first start. initdb leaves some files 0600 and root-owned: make them readable by the
# unprivileged runtime user, who copies the template into its DATA_DIR.
# The template carries the migrations, so drizzle/ must be there too; the postinstall also bundles
# src/ into dist/cli.mjs, which bin/assay.mjs starts from (it skips the TypeScript loader).
COPY scripts/ ./scripts/
COPY src/ ./src/
COPY drizzle/ ./drizzle/
RUN npm rebuild --foreground-scripts \
  && ls node_modules/.cache/assay/pglite-*/PG_VERSION >/dev/null \
  && test -f dist/cli.mjs \
  && chmod -R a+rX node_modules/.cache/assay \
  && npm cache clean --force

# ---- runtime ----
FROM ${NODE_IMAGE} AS runtime

# bubblewrap: the sandbox. tini: PID 1, forwards SIGTERM/SIGINT to node (which shuts down in
# order) and reaps orphaned sandbox processes.
# Language toolchains the sandbox offers (only languages whose toolchain is present are offered):
# python3, and gcc/g++ for C and C++ (libc6-dev holds the C headers and startup files).
# To add more, append packages here, e.g. default-jdk-headless (Java, ~200 MB), golang-go,
# rustc, ruby; JavaScript runs on the node already in the image.
RUN apt-get update \
  && apt-get install -y --no-install-recommends \
    bubblewrap \
    tini \
    python3 \
    gcc \
    g++ \
    libc6-dev \
  && rm -rf /var/lib/apt/lists/*

# An unprivileged user with a fixed uid, so volume ownership is predictable across rebuilds.
RUN groupadd --gid 10001 assay \
  && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin assay \
  && mkdir -p /data \
  && chown 10001:10001 /data

WORKDIR /app
ENV NODE_ENV=production \
    DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=8000

# Application files stay owned by root: the service can read its code but not change it.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/dist ./dist
COPY package.json ./
COPY bin/ ./bin/
COPY src/ ./src/
COPY drizzle/ ./drizzle/
COPY scripts/ ./scripts/

USER 10001:10001
# Embedded database (when DATABASE_URL is unset), uploaded files, mail files.
VOLUME ["/data"]
EXPOSE 8000

# Only the HTTP roles answer this; `assay worker` and `assay migrate` containers should disable it
# (docker-compose.yml does). 503 (database down) counts as unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "bin/assay.mjs", "serve"]
