#!/bin/sh
# dbapp's database backup and restore, run by backup-bot-two's hooks inside the db container (as root,
# over the local socket, which the image trusts):
#   backup   pg_dump of $POSTGRES_DB into backup.sql on the postgres volume (the only file backed up);
#   restore  drop the database (closing its connections), create it again, load backup.sql.
set -eu
BACKUP_FILE=/var/lib/postgresql/data/backup.sql

case "${1:-}" in
  backup)
    # Dumped aside, then renamed: a dump cut short never replaces the file that gets backed up.
    pg_dump -U "$POSTGRES_USER" --no-owner "$POSTGRES_DB" >"$BACKUP_FILE.partial"
    mv "$BACKUP_FILE.partial" "$BACKUP_FILE"
    ;;
  restore)
    [ -s "$BACKUP_FILE" ] || { echo "pg_backup: no $BACKUP_FILE to restore" >&2; exit 1; }
    psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d postgres \
      -c "DROP DATABASE IF EXISTS \"$POSTGRES_DB\" WITH (FORCE)" \
      -c "CREATE DATABASE \"$POSTGRES_DB\""
    psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" --single-transaction -q -f "$BACKUP_FILE"
    ;;
  *)
    echo "usage: $0 backup|restore" >&2
    exit 2
    ;;
esac
