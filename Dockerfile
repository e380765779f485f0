FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY territory territory
COPY ingest ingest
COPY optimiser optimiser
COPY devices devices
COPY dashboard dashboard
COPY config config
RUN pip install --no-cache-dir .
ENV PYTHONUNBUFFERED=1
CMD ["territory", "--help"]
