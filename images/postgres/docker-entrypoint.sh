#!/usr/bin/env bash
# Entrypoint of ccci/postgres:15, written for this project to honour the official postgres image's
# documented contract (hub.docker.com/_/postgres):
#   - POSTGRES_PASSWORD (required for a new database unless POSTGRES_HOST_AUTH_METHOD=trust),
#     POSTGRES_USER (default postgres), POSTGRES_DB (default: the user), POSTGRES_INITDB_ARGS;
#     each may instead come from a file named by <VAR>_FILE (docker secrets);
#   - $PGDATA (/var/lib/postgresql/data) is initialised on first start and reused afterwards;
#   - /docker-entrypoint-initdb.d/*.sql, *.sql.gz and *.sh run once, on a new database;
#   - the local socket is trusted; other hosts authenticate with the password
#     (POSTGRES_HOST_AUTH_METHOD, default scram-sha-256);
#   - started as root, it prepares the directories and re-runs itself as `postgres`;
#     then postgres runs as PID 1 and shuts down cleanly on SIGINT or SIGTERM.
set -Eeo pipefail

die() { printf 'docker-entrypoint: error: %s\n' "$*" >&2; exit 1; }

# Sets VAR from VAR or from the file named by VAR_FILE (never both), else to DEFAULT.
file_env() {
	local var=$1 file_var=${1}_FILE default=${2:-}
	if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
		die "both $var and $file_var are set; they are exclusive"
	fi
	local value=$default
	if [ -n "${!var:-}" ]; then
		value=${!var}
	elif [ -n "${!file_var:-}" ]; then
		[ -r "${!file_var}" ] || die "$file_var=${!file_var} is not a readable file"
		value=$(<"${!file_var}")
	fi
	export "$var=$value"
	unset "$file_var"
}

# psql as the superuser over the local socket, stopping at the first error.
sql() {
	PGHOST= PGHOSTADDR= psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc "$@"
}

init_database() {
	if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
		die "the database is uninitialised and no superuser password is set: set POSTGRES_PASSWORD \
(or POSTGRES_PASSWORD_FILE), or POSTGRES_HOST_AUTH_METHOD=trust"
	fi
	# initdb refuses an empty password file, hence the newline; local connections stay `trust`.
	eval 'initdb --username="$POSTGRES_USER" --pwfile=<(printf "%s\n" "$POSTGRES_PASSWORD") '"$POSTGRES_INITDB_ARGS"
	# Everything else authenticates with the password, hashed the way the server stores it.
	local method=${POSTGRES_HOST_AUTH_METHOD:-$(postgres -C password_encryption)}
	printf '\nhost all all all %s\n' "$method" >>"$PGDATA/pg_hba.conf"

	# A server on the socket only, for the set-up steps.
	pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p ${PGPORT:-5432}" -w start
	export PGPASSWORD=${PGPASSWORD:-$POSTGRES_PASSWORD}
	if [ -z "$(sql --dbname postgres --tuples-only --set db="$POSTGRES_DB" \
		<<<"SELECT 1 FROM pg_database WHERE datname = :'db'")" ]; then
		sql --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db"'
	fi
	local f
	for f in /docker-entrypoint-initdb.d/*; do
		case $f in
			*.sh) if [ -x "$f" ]; then echo "running $f"; "$f"; else echo "sourcing $f"; . "$f"; fi ;;
			*.sql) echo "running $f"; sql --dbname "$POSTGRES_DB" -f "$f" ;;
			*.sql.gz) echo "running $f"; gunzip -c "$f" | sql --dbname "$POSTGRES_DB" ;;
			*) [ -e "$f" ] && echo "ignoring $f" ;;
		esac
	done
	unset PGPASSWORD
	pg_ctl -D "$PGDATA" -m fast -w stop
	echo 'PostgreSQL init process complete; ready for start up.'
}

# Flags alone mean "postgres with these flags".
if [ "${1:0:1}" = - ]; then
	set -- postgres "$@"
fi

if [ "$1" = postgres ] && [[ " $* " != *" --help "* && " $* " != *" -V "* && " $* " != *" --version "* ]]; then
	file_env POSTGRES_PASSWORD
	file_env POSTGRES_USER postgres
	file_env POSTGRES_DB "$POSTGRES_USER"
	file_env POSTGRES_INITDB_ARGS
	: "${POSTGRES_HOST_AUTH_METHOD:=}"

	if [ "$(id -u)" = 0 ]; then
		# The volume may be new (root-owned) or come from elsewhere: give it to postgres, then drop root.
		mkdir -p "$PGDATA" /var/run/postgresql
		chmod 0700 "$PGDATA"
		chmod 3775 /var/run/postgresql
		find "$PGDATA" /var/run/postgresql ! -user postgres -exec chown postgres:postgres {} +
		exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
	fi

	if [ -s "$PGDATA/PG_VERSION" ]; then
		echo 'PostgreSQL Database directory appears to contain a database; Skipping initialization'
	else
		init_database
	fi
fi

exec "$@"
