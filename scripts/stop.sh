#!/usr/bin/env bash
# `make stop`: stop the project's own PostgreSQL cluster.
source "$(dirname "$0")/common.sh"
stop_postgres
say "PostgreSQL cluster in $DATA/postgres stopped"
