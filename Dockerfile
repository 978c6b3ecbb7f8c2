# syntax=docker/dockerfile:1

# --- build: compile the service into one self-contained binary ---------------
# Runs on the builder's own platform ($BUILDPLATFORM) for every target: `deno
# compile --target` cross-compiles, so a multi-arch build needs no emulation.
# Pinned to the Deno version CI installs (.ci/run); a test keeps them equal.
FROM --platform=$BUILDPLATFORM denoland/deno:2.9.6 AS build
WORKDIR /app

# Manifests and lock file first: this layer is rebuilt only when dependencies change.
COPY deno.json deno.lock ./
RUN deno install --frozen

COPY main.ts serve.ts ./
COPY src ./src
# The image's architecture (set by buildx) picks the compile task: the same
# least-privilege flags as `deno task start` (see deno.json), for that target.
ARG TARGETARCH
RUN case "${TARGETARCH}" in \
      amd64) task=compile:linux-x64 output=dist/genesys-weather-action-linux-x64 ;; \
      arm64) task=compile:linux-arm64 output=dist/genesys-weather-action-linux-arm64 ;; \
      *) echo "No compile task for TARGETARCH=${TARGETARCH}" >&2; exit 1 ;; \
    esac \
 && deno task "${task}" \
 && mv "${output}" /app/genesys-weather-action

# --- run: the binary alone, on a minimal glibc image, as a non-root user -----
# distroless/cc has the C runtime a Deno binary needs and no shell or package
# manager. It is published for amd64 and arm64; buildx pulls the target's one.
FROM gcr.io/distroless/cc-debian12:nonroot
WORKDIR /app
COPY --from=build /app/genesys-weather-action /app/genesys-weather-action

ENV HOST=0.0.0.0 \
    PORT=8080
EXPOSE 8080
USER nonroot:nonroot

# The binary checks its own /healthz: there is no curl in this image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
  CMD ["/app/genesys-weather-action", "healthcheck"]

ENTRYPOINT ["/app/genesys-weather-action"]
