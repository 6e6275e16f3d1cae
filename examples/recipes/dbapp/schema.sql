-- dbapp's schema, run once by the postgres image on a new database (/docker-entrypoint-initdb.d).
CREATE TABLE rows (
    id   integer PRIMARY KEY,
    name text    NOT NULL
);
