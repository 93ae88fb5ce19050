# syntax=docker/dockerfile:1
#
# Image of the hatchet-worker service. Build from the repository root:
#   docker build -t hatchet-worker .
# compose.yaml builds it the same way (build: .).

# --- build -------------------------------------------------------------------
FROM golang:1.26-bookworm AS build
WORKDIR /src

# Download modules in their own layer so a source change does not refetch them.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

COPY . .
# CGO_ENABLED=0: the binary is static, so the runtime image needs no libc match.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/hatchet-worker ./cmd/hatchet-worker

# --- runtime -----------------------------------------------------------------
# bookworm-slim rather than distroless: the compose health check runs curl
# against /readyz, and compose.yaml reads the Hatchet token file with /bin/sh.
FROM debian:bookworm-slim AS runtime

RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*

# Fixed uid/gid 10001: deploy/hatchet-token.sh hands the token file to this uid.
RUN groupadd --system --gid 10001 hatchet \
    && useradd --system --uid 10001 --gid hatchet --create-home --home-dir /home/hatchet hatchet

COPY --from=build /out/hatchet-worker /hatchet-worker

USER 10001:10001
ENV HOME=/home/hatchet
EXPOSE 8090

HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD curl -fsS http://localhost:8090/readyz || exit 1

ENTRYPOINT ["/hatchet-worker"]
CMD ["serve"]
