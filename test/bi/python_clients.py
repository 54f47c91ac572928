"""What Python-based BI clients learn about a relation, printed one fact per line (tab-separated) for
test/t/041_bi_clients.pl to compare: SQLAlchemy's inspector (what Superset lists and syncs), psycopg 3's
cursor.description, and the catalog queries Grafana and Metabase send, run as they send them.

    python3 python_clients.py HOST PORT DBNAME USER PASSWORD SCHEMA VIEW
"""
import sys

import psycopg
import sqlalchemy
from sqlalchemy.engine import URL


def emit(*fields):
    print("\t".join("\\N" if f is None else str(f) for f in fields))


def main():
    host, port, dbname, user, password, schema, view = sys.argv[1:8]

    # SQLAlchemy, as Superset uses it: get_view_names / get_table_names / get_columns. Debian 12's SQLAlchemy
    # (1.4) reaches PostgreSQL through psycopg2; SQLAlchemy 2's psycopg (3) dialect runs the same inspector
    # queries.
    driver = "psycopg" if int(sqlalchemy.__version__.split(".")[0]) >= 2 else "psycopg2"
    engine = sqlalchemy.create_engine(URL.create(
        f"postgresql+{driver}", username=user, password=password, host=host, port=int(port), database=dbname))
    inspector = sqlalchemy.inspect(engine)
    for name in sorted(inspector.get_view_names(schema=schema)):
        emit("sqlalchemy_view", name)
    for name in sorted(inspector.get_table_names(schema=schema)):
        emit("sqlalchemy_table", name)
    for column in inspector.get_columns(view, schema=schema):
        emit("sqlalchemy_column", column["name"], column["type"].compile(dialect=engine.dialect),
             column.get("comment"))
    emit("sqlalchemy_comment", inspector.get_table_comment(view, schema=schema).get("text"))
    engine.dispose()

    with psycopg.connect(host=host, port=port, dbname=dbname, user=user, password=password,
                         application_name="python_clients") as conn:
        # psycopg 3: the type OIDs and sizes a client reads off a result's description.
        with conn.cursor() as cur:
            cur.execute(psycopg.sql.SQL("SELECT * FROM {}.{} LIMIT 0").format(
                psycopg.sql.Identifier(schema), psycopg.sql.Identifier(view)))
            for d in cur.description:
                emit("psycopg_column", d.name, d.type_code, d.internal_size, d.display_size, d.precision, d.scale)

        with conn.cursor() as cur:
            # Grafana's PostgreSQL data source, the shape of its table list (postgres_meta_query.ts,
            # buildTableQuery with its schema constraint): information_schema.tables, the schemas of the
            # search_path named bare, the others qualified.
            cur.execute(psycopg.sql.SQL("SET search_path = {}").format(psycopg.sql.Identifier(schema)))
            search_path_schemas = """
                SELECT CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
                  FROM generate_series(array_lower(string_to_array(current_setting('search_path'), ','), 1),
                                       array_upper(string_to_array(current_setting('search_path'), ','), 1)) AS i,
                       string_to_array(current_setting('search_path'), ',') AS s"""
            cur.execute(f"""
                SELECT CASE WHEN quote_ident(table_schema) IN ({search_path_schemas})
                            THEN quote_ident(table_name)
                            ELSE quote_ident(table_schema) || '.' || quote_ident(table_name) END AS "table"
                  FROM information_schema.tables
                 WHERE quote_ident(table_schema) NOT IN ('information_schema', 'pg_catalog', '_timescaledb_cache',
                                                         '_timescaledb_catalog', '_timescaledb_internal',
                                                         '_timescaledb_config', 'timescaledb_information',
                                                         'timescaledb_experimental')
                 ORDER BY CASE WHEN quote_ident(table_schema) IN ({search_path_schemas}) THEN 0 ELSE 1 END, 1""")
            for (name,) in cur.fetchall():
                emit("grafana_table", name)
            # ... and its column list for the chosen table (buildColumnQuery): information_schema.columns.
            cur.execute(f"""
                SELECT quote_ident(column_name) AS "column", data_type AS "type"
                  FROM information_schema.columns
                 WHERE quote_ident(table_schema) IN ({search_path_schemas}) AND quote_ident(table_name) = %s
                 ORDER BY ordinal_position""", (view,))
            for name, type_name in cur.fetchall():
                emit("grafana_column", name, type_name)

            # Metabase's PostgreSQL driver (driver/postgres.clj): its table list is pg_class joined with
            # pg_namespace, relkind r, p, v, f and m, outside pg_* and information_schema, with pg_description
            # as the description; it keeps the relations the user may SELECT.
            cur.execute("""
                SELECT n.nspname AS schema, c.relname AS name,
                       CASE c.relkind WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'PARTITIONED TABLE' WHEN 'v' THEN 'VIEW'
                                      WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE NULL END AS type,
                       d.description AS description, stat.n_live_tup AS estimated_row_count
                  FROM pg_catalog.pg_class c
                  JOIN pg_catalog.pg_namespace n ON c.relnamespace = n.oid
                  LEFT JOIN pg_catalog.pg_description d
                         ON c.oid = d.objoid AND d.objsubid = 0 AND d.classoid = 'pg_class'::regclass
                  LEFT JOIN pg_stat_user_tables stat ON n.nspname = stat.schemaname AND c.relname = stat.relname
                 WHERE c.relnamespace = n.oid AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
                   AND c.relkind IN ('r', 'p', 'v', 'f', 'm')
                   AND has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT')
                 ORDER BY type, schema, name""")
            for schema_name, name, kind, description, _ in cur.fetchall():
                emit("metabase_table", schema_name, name, kind, description)
            # ... and its fields (describe-fields-sql): information_schema.columns with udt_name as the database
            # type, then pg_attribute for the relations information_schema leaves out (materialized views).
            cur.execute("""
                SELECT c.column_name AS name,
                       CASE WHEN c.udt_schema IN ('public', 'pg_catalog') THEN format('%%s', c.udt_name)
                            ELSE format('"%%s"."%%s"', c.udt_schema, c.udt_name) END AS database_type,
                       c.ordinal_position - 1 AS database_position
                  FROM information_schema.columns c
                 WHERE c.table_schema !~ '^information_schema|catalog_history|pg_'
                   AND c.table_schema = %(schema)s AND c.table_name = %(view)s
                UNION ALL
                SELECT pa.attname, format_type(pa.atttypid, pa.atttypmod), pa.attnum - 1
                  FROM pg_catalog.pg_attribute pa
                  JOIN pg_catalog.pg_class pc ON pa.attrelid = pc.oid
                  JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
                 WHERE pc.relkind = 'm' AND pa.attnum >= 1 AND NOT pa.attisdropped
                   AND pn.nspname = %(schema)s AND pc.relname = %(view)s
                 ORDER BY database_position""", {"schema": schema, "view": view})
            for name, type_name, position in cur.fetchall():
                emit("metabase_column", name, type_name, position)


if __name__ == "__main__":
    main()
