# syntax=docker/dockerfile:1
# One image for every CRS process (the command picks the service), plus an `edge` target that adds
# Debian's kamailio for the SIP edge. Build:  docker build -t crs .   and   docker build --target edge -t crs-edge .
# docs/deploy.md says why one image and why the edge is a separate target.

ARG PYTHON_IMAGE=python:3.11-slim
ARG NODE_IMAGE=node:20-slim

# ---- assets: the console's chart library from npm, by package-lock.json ------------------------------------
FROM ${NODE_IMAGE} AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error \
 && mkdir vendor && cp node_modules/chart.js/dist/chart.umd.min.js vendor/chart.umd.js

# ---- builder: dependencies into a virtualenv, protobuf code generated from protos/ -------------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
# Dependencies first, from pyproject.toml alone, so that a code change does not reinstall them.
COPY pyproject.toml ./
RUN mkdir services && touch services/__init__.py \
 && pip install -e . \
 && pip install "grpcio-tools>=1.66"
COPY protos ./protos
COPY scripts/gen_protos.py ./scripts/gen_protos.py
# Writes gen/python and a .pth in the virtualenv that points at /app/gen/python (the same path below).
RUN python scripts/gen_protos.py --out gen/python
# The rest of the context: .dockerignore lets in only services/, edge/ and docker/ besides the above.
COPY . .
# The code generator is a build tool: it does not go into the final image.
RUN pip uninstall -y grpcio-tools \
 && python -m compileall -q /app/services /app/gen /opt/venv/lib

# ---- app: the runtime image, no compilers, no build tools, a non-root user ---------------------------------
FROM ${PYTHON_IMAGE} AS base
RUN groupadd --system --gid 10001 crs \
 && useradd --system --uid 10001 --gid crs --home-dir /app --no-create-home --shell /usr/sbin/nologin crs \
 && mkdir -p /var/lib/crs/recordings /var/lib/crs/spool \
 && chown -R crs:crs /var/lib/crs
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app
WORKDIR /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CRS_GRPC_BIND_HOST=0.0.0.0 \
    CRS_RECORDINGS_URL=file:///var/lib/crs/recordings
VOLUME ["/var/lib/crs/recordings"]
USER 10001:10001
# Asks the running service itself: grpc.health.v1 for gRPC servers, the metrics endpoint for the rest.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["python", "/app/docker/healthcheck.py"]

# ---- edge: the same code plus Debian's kamailio, started by `python -m services.telephony.edge` -----------
FROM base AS edge
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends kamailio \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /run/kamailio && chown crs:crs /run/kamailio
USER 10001:10001
EXPOSE 5060/udp
CMD ["python", "-m", "services.telephony.edge"]

# ---- app (default target): every other process -------------------------------------------------------------
FROM base AS app
COPY --from=assets /assets/vendor /app/services/console/static/vendor
# Letters: WeasyPrint renders with Pango; the fonts cover Latin scripts and Japanese.
# Scanned letters (channels): tesseract reads them, pdftoppm turns a scanned PDF's pages into images.
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core fonts-ipafont-gothic \
    tesseract-ocr tesseract-ocr-eng tesseract-ocr-fra tesseract-ocr-deu tesseract-ocr-spa tesseract-ocr-jpn poppler-utils \
 && rm -rf /var/lib/apt/lists/*
USER 10001:10001
EXPOSE 50051 50052 50053 50054 50055 8080 8081 9101 9102 9103 9104 9105 9106 9107
CMD ["python", "-m", "services.contacts"]
