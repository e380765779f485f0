#!/bin/bash
# Entrypoint of docker-compose.yml's InfluxDB (image influxdb:1.8).
#
# At its first start the image creates its users from environment variables, and reads
# their passwords from environment variables only (INFLUXDB_ADMIN_PASSWORD, ...). A
# password written in docker-compose.yml would sit in the repository and in `docker
# inspect`. This wrapper reads each one from the file that VAR_FILE names (a compose
# secret) and hands over to the image's own entrypoint.
#
# INFLUXDB_IMAGE_ENTRYPOINT names that entrypoint; tests/test_compose.py sets it to
# record what this script hands over.
set -euo pipefail

for name in INFLUXDB_ADMIN_PASSWORD INFLUXDB_USER_PASSWORD INFLUXDB_READ_USER_PASSWORD \
    INFLUXDB_WRITE_USER_PASSWORD; do
    file_variable="${name}_FILE"
    file="${!file_variable:-}"
    if [ -n "$file" ]; then
        if [ ! -r "$file" ]; then
            echo "influxdb entrypoint: $file_variable names $file, which cannot be read" >&2
            exit 1
        fi
        value="$(cat "$file")"
        export "$name=$value"
        unset "$file_variable"
    fi
done

exec "${INFLUXDB_IMAGE_ENTRYPOINT:-/entrypoint.sh}" "$@"
