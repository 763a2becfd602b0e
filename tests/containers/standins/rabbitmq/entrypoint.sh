#!/bin/sh
# The official image's behaviour that compose.yaml relies on, for Debian's rabbitmq-server.
set -eu
{
    echo "loopback_users = none"
    echo "listeners.tcp.default = 5672"
    echo "default_user = ${RABBITMQ_DEFAULT_USER:-guest}"
    echo "default_pass = ${RABBITMQ_DEFAULT_PASS:-guest}"
    echo "default_vhost = ${RABBITMQ_DEFAULT_VHOST:-/}"
} > /etc/rabbitmq/rabbitmq.conf
echo "[]." > /etc/rabbitmq/enabled_plugins
chown -R rabbitmq:rabbitmq /var/lib/rabbitmq
# Debian's wrapper runs the server as the rabbitmq user; exec keeps it PID 1's child for signals.
exec "$@"
