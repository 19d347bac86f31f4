# Build
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/diminuendo ./cmd/diminuendo

# Run: a static binary, non-root, operational artifacts under /data.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/diminuendo /diminuendo
ENV PORT=8080 DATA_DIR=/data GOMEMLIMIT=1600MiB
EXPOSE 8080
USER nonroot
ENTRYPOINT ["/diminuendo"]
