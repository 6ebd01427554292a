# syntax=docker/dockerfile:1.7
# Two images from one source tree:
#   api    - the slim API (no torch):      docker build --target api -t lossgap-api .
#   worker - the re-evaluation worker:     docker build --target worker -t lossgap-worker .

FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LOSSGAP_DATA_DIR=/var/lib/lossgap
RUN useradd --create-home --uid 10001 lossgap \
    && mkdir -p /var/lib/lossgap && chown lossgap /var/lib/lossgap
WORKDIR /srv/lossgap
# Dependencies first, so that code changes do not rebuild this layer. The client library comes
# along: its typed probe report is the schema the API validates and the analysis reads.
COPY pyproject.toml README.md ./
COPY clients/python ./clients/python
RUN mkdir app workers && touch app/__init__.py workers/__init__.py \
    && pip install . ./clients/python && pip uninstall -y lossgap
COPY alembic.ini ./
COPY alembic ./alembic
COPY app ./app
COPY workers ./workers
# Editable, so that migrations (alembic/ beside app/) are found from the installed package.
RUN pip install --no-deps -e .

FROM base AS api
USER lossgap
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"]
CMD ["lossgap", "serve", "--host", "0.0.0.0", "--port", "8000"]

FROM base AS worker
# The probe report's computation lives in the client library, shared with `probe()`.
RUN pip install -e '.[worker]' './clients/python[probe]'
USER lossgap
CMD ["lossgap", "worker", "--queue", "gpu"]
