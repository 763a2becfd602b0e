#!/bin/sh
# As the official image's entrypoint: a server started without a config file listens beyond localhost.
set -eu
if [ "${1:-}" = "valkey-server" ] && [ "${2:-}" = "${2#/}" ]; then
    set -- "$@" --protected-mode no --bind "0.0.0.0"
fi
exec "$@"
