# The image every Soft Territory service of docker-compose.yml runs: one distribution,
# every package of pyproject.toml (tests/test_compose_file.py checks that each one is
# copied), the configuration folder, and the night run's search compiled at build time.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY territory territory
COPY ingest ingest
COPY optimiser optimiser
COPY devices devices
COPY dashboard dashboard
COPY bridges bridges
COPY config config
RUN pip install --no-cache-dir .
# Compiled code is cached where any user may read and add to it: compose runs the
# containers as the owner of their secrets (TERRITORY_UID), not as root. The warm-up runs
# from / so that it compiles the installed package, the one `territory` imports.
ENV NUMBA_CACHE_DIR=/var/cache/territory/numba PYTHONUNBUFFERED=1
RUN mkdir -p "$NUMBA_CACHE_DIR" \
    && cd / && python -c "from optimiser.mobility.static.fast_search import warm_up; warm_up()" \
    && chmod -R a+rwX "$NUMBA_CACHE_DIR"
USER nobody
CMD ["territory", "--help"]
