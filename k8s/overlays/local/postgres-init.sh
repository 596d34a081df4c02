#!/usr/bin/env bash
# The databases and roles of docs/deploy-aks.md ("Databases and roles"), for a local PostgreSQL: per app
# an owner role that the migrations run as and an app role that may only read and write rows. The
# postgres image runs this once, on an empty data directory, as its superuser; the passwords come from
# the Secrets in prerequisites.yaml (the environment of the postgres container).
set -euo pipefail
sql() { psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" "$@"; }

for app in catalog audit; do
  upper=${app^^}
  owner_password_var="${upper}_OWNER_PASSWORD"
  app_password_var="${upper}_DB_PASSWORD"
  sql --dbname postgres \
    -v owner="${app}_owner" -v owner_password="${!owner_password_var}" \
    -v app="${app}_app" -v app_password="${!app_password_var}" -v db="$app" <<'SQL'
CREATE ROLE :"owner" LOGIN PASSWORD :'owner_password';
CREATE ROLE :"app" LOGIN PASSWORD :'app_password';
CREATE DATABASE :"db";
GRANT CONNECT ON DATABASE :"db" TO :"owner", :"app";
SQL
  sql --dbname "$app" -v owner="${app}_owner" -v app="${app}_app" <<'SQL'
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO :"owner";
GRANT USAGE ON SCHEMA public TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO :"app";
SQL
done
