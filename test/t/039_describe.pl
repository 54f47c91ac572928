# Describing answers without running them: multidb.describe, multidb._describe_answer and
# multidb._description_drift against real remote servers — each database prepares and describes the statement and
# names its types, the coordinator's types stand in (text and a NOTICE for one it lacks), databases merge as a UNION
# would (or an ERROR names the column, the databases and their types), nothing runs, the guard and the remote checks
# still judge, and a kept connection stays clean.
use strict;
use warnings;

use MultidbCluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my @remotes = map { start_remote("r$_") } 1 .. 3;
my $coordinator = start_coordinator();
add_connection($coordinator, "r$_", $remotes[ $_ - 1 ]) for 1 .. 3;

# r1 has types of its own; the coordinator has color and posint too, but neither mood nor email.
$remotes[0]->safe_psql('postgres', q{
	CREATE TYPE mood AS ENUM ('sad', 'happy');
	CREATE TYPE color AS ENUM ('red', 'green');
	CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%');
	CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
	CREATE TABLE wide (amount numeric(12,2), label varchar(40), at timestamptz, day date, ids int[], tags text[],
		m mood, c color, e email, p posint);
	GRANT SELECT ON wide TO reader;
	CREATE TABLE m (id integer, at timestamptz);
	GRANT SELECT ON m TO reader;
	CREATE VIEW v AS SELECT 1 AS a;
	GRANT SELECT ON v TO reader;
	CREATE TABLE side_effects (n int);
	GRANT SELECT, INSERT ON side_effects TO reader;
});
$remotes[1]->safe_psql('postgres', q{
	CREATE TABLE m (id bigint, at timestamp);
	GRANT SELECT ON m TO reader;
	CREATE VIEW v AS SELECT 1 AS b;
	GRANT SELECT ON v TO reader;
});
$coordinator->safe_psql('postgres', q{
	CREATE TYPE public.color AS ENUM ('red', 'green');
	CREATE DOMAIN public.posint AS integer CHECK (VALUE > 0);
});

my ($ret, $stdout, $stderr);

# 1. Each column typed as the coordinator names it; a type it lacks becomes text, and a NOTICE names it.
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	q{SELECT source_db, column_name, column_type FROM multidb.describe('SELECT * FROM wide', ARRAY['r1'])});
is($stdout, join("\n",
		'r1|amount|numeric(12,2)', 'r1|label|character varying(40)', 'r1|at|timestamp with time zone', 'r1|day|date',
		'r1|ids|integer[]', 'r1|tags|text[]', 'r1|m|text', 'r1|c|public.color', 'r1|e|text', 'r1|p|public.posint'),
	'describe: built-in types with their typmods, arrays, the types the coordinator has, text for the others')
  or diag($stderr);
like($stderr, qr/connection "r1": column "m" has type public\.mood, which this database lacks; it becomes text/,
	'a NOTICE names the connection, the column and the enum the coordinator lacks');
like($stderr, qr/connection "r1": column "e" has type public\.email, which this database lacks; it becomes text/,
	'... and the domain it lacks');

# 2. Described, never run: a statement that would take 30 s, or fail.
my $start = time;
is($coordinator->safe_psql('postgres',
		q{SET multidb.statement_timeout = '5s'; SELECT column_name || ' ' || column_type FROM multidb.describe('SELECT pg_sleep(30) AS slept', ARRAY['r1'])}),
	'slept void', 'pg_sleep(30) described');
cmp_ok(time - $start, '<', 4, 'in well under its 30 s: it did not run');
is($coordinator->safe_psql('postgres',
		q{SELECT column_type FROM multidb.describe('SELECT 1/0 AS x', ARRAY['r1'])}),
	'integer', 'a statement that fails when run is described');

# 3. Two databases merge as a UNION of their statements would.
is($coordinator->safe_psql('postgres',
		q{SELECT multidb._describe_answer('{"sql": "SELECT id FROM m"}', ARRAY['r1', 'r2'])}),
	'{"columns": [{"name": "id", "type": "bigint"}], "databases": [{"columns": [{"name": "id", "type": "integer"}], '
	  . '"database": "r1"}, {"columns": [{"name": "id", "type": "bigint"}], "database": "r2"}]}',
	'_describe_answer: integer and bigint merge to bigint; each database keeps its own description');
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	q{\set VERBOSITY verbose
SELECT multidb._describe_answer('{"sql": "SELECT at FROM m"}', ARRAY['r1', 'r2'])});
like($stderr, qr/ERROR:  42804: .*"at".*/, 'timestamp against timestamptz: 42804 naming the column');
like($stderr, qr/r1.*timestamp with time zone|timestamp with time zone.*r1/s, '... the databases and their types');
like($stderr, qr/r2.*timestamp without time zone|timestamp without time zone.*r2/s, '... both of them');
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	q{\set VERBOSITY verbose
SELECT multidb._describe_answer('{"sql": "SELECT * FROM v"}', ARRAY['r1', 'r2'])});
like($stderr, qr/ERROR:  42804: /, 'different column names: an ERROR');
like($stderr, qr/"a".*"b"|"b".*"a"/s, '... naming both names');

# 4. The guard and the remote checks still judge what is described.
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	q{SELECT * FROM multidb.describe('INSERT INTO side_effects VALUES (1) RETURNING n', ARRAY['r1'])});
like($stderr, qr/ERROR:  .*(read-only|refused|not allowed)/i, 'a write is refused, even to be described') or diag($stderr);
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	q{SELECT * FROM multidb.describe('SELECT pg_terminate_backend(1) AS t', ARRAY['r1'])});
like($stderr, qr/ERROR:  .*pg_terminate_backend/, 'so is a denied function');

# 5. A stopped remote: an ERROR naming its connection.
$remotes[2]->stop;
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	q{SELECT * FROM multidb.describe('SELECT 1 AS one', ARRAY['r1', 'r3'])});
like($stderr, qr/ERROR:  connection "r3": could not connect/, 'a stopped remote: an ERROR naming its connection');
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	q{SET multidb.on_error = warn; SELECT * FROM multidb.describe('SELECT 1 AS one', ARRAY['r1', 'r3'])});
like($stderr, qr/ERROR:  connection "r3": could not connect/, '... even with multidb.on_error = warn: a description is whole or none');

# 6. A kept connection stays clean: kept after describing, and the next fan-out on it works.
($ret, $stdout, $stderr) = $coordinator->psql('postgres', join(";\n",
		q{SET multidb.keep_connections = on},
		q{SELECT count(*) FROM multidb.describe('SELECT id, name FROM items', ARRAY['r1'])},
		q{SELECT connection || ':' || calls FROM multidb.open_connections()},
		q{SELECT count(*) FROM multidb.fanout('SELECT id FROM items', ARRAY['r1'])},
		q{SELECT connection || ':' || calls FROM multidb.open_connections()}));
is($stdout, "2\nr1:1\n100\nr1:2", 'the described connection is kept and serves the next fan-out') or diag($stderr);

# 7. Background workers describe as well.
is($coordinator->safe_psql('postgres',
		q{SET multidb.keep_connections = off; SELECT string_agg(source_db || ' ' || column_type, ',') FROM multidb.describe('SELECT price FROM items', ARRAY['r1', 'r2'])}),
	'r1 numeric(10,2),r2 numeric(10,2)', 'through background workers too');

# 8. A plan with a combine step: each step described on its database, the combine step prepared here.
my $plan = '{"queries": [{"database": "r1", "sql": "SELECT price FROM items"}, '
  . '{"database": "r2", "sql": "SELECT price, name FROM items"}], '
  . '"combine": "SELECT sum(price) AS total, count(*) AS n FROM (SELECT price FROM r1 UNION ALL SELECT price FROM r2) s"}';
is($coordinator->safe_psql('postgres', "SELECT multidb._describe_answer('$plan', NULL)"),
	'{"columns": [{"name": "total", "type": "numeric"}, {"name": "n", "type": "bigint"}], '
	  . '"combine": {"columns": [{"name": "total", "type": "numeric"}, {"name": "n", "type": "bigint"}]}, '
	  . '"databases": [{"columns": [{"name": "price", "type": "numeric(10,2)"}], "database": "r1"}, '
	  . '{"columns": [{"name": "price", "type": "numeric(10,2)"}, {"name": "name", "type": "text"}], "database": "r2"}]}',
	'combine plan: the answer is the combine step\'s columns (sum over numeric(10,2) is numeric)');
(my $bad_plan = $plan) =~ s/sum\(price\)/sum(nosuch)/;
($ret, $stdout, $stderr) = $coordinator->psql('postgres', "SELECT multidb._describe_answer('$bad_plan', NULL)");
like($stderr, qr/ERROR:  the combine step cannot be described: column "nosuch" does not exist/,
	'a combine step that cannot be prepared: an ERROR saying so');
(my $fenced_plan = $plan) =~ s/FROM r2\) s/FROM pg_catalog.pg_authid) s/;
($ret, $stdout, $stderr) = $coordinator->psql('postgres', "SELECT multidb._describe_answer('$fenced_plan', NULL)");
like($stderr, qr/ERROR:  multidb refused the plan's combine step/, 'a combine step outside its fence is refused, not described');

# 9. Drift: a stored description against one made now, per database.
my $stored = $coordinator->safe_psql('postgres',
	q{SELECT multidb._describe_answer('{"sql": "SELECT * FROM items"}', ARRAY['r1', 'r2'])});
is($coordinator->safe_psql('postgres', "SELECT count(*) FROM multidb._description_drift('$stored', '$stored')"), '0',
	'no drift: no rows');
$remotes[1]->safe_psql('postgres', q{ALTER TABLE items DROP COLUMN name, ADD COLUMN extra int, ALTER COLUMN price TYPE text});
my $now = $coordinator->safe_psql('postgres',
	q{SELECT multidb._describe_answer('{"sql": "SELECT * FROM items"}', ARRAY['r2'])});
is($coordinator->safe_psql('postgres',
		"SELECT string_agg(concat_ws(' ', change, column_name, database, expected, found), ',') "
		  . "FROM multidb._description_drift('$stored', '$now')"),
	'removed name r2 text,retyped price r2 numeric(10,2) text,added extra r2 integer',
	'a column removed, one retyped and one added, each naming the database');

done_testing();
