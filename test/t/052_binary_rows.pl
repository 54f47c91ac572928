# fanout_rows and the combine step read an in-backend connection's rows in binary after its first batch, where
# every column's type allows it, and in text otherwise: the values are the same either way (checked against the
# text a background worker passes, and against the remote's own output), the caller's typmods still hold, a
# column of another type or of the remote's own keeps the whole result in text (a DEBUG1 message says which
# column), and a value a type's checks reject is an ERROR naming the connection and the column.
use strict;
use warnings;

use JSON::PP;
use MultidbCluster;
use PostgreSQL::Test::Utils;
use Test::More;

$ENV{PGCLIENTENCODING} = 'UTF8';

my $remote = start_remote('remote');
$remote->safe_psql('postgres', q{
	CREATE DATABASE mixed_db TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C';
	CREATE DATABASE ascii_db TEMPLATE template0 ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C';
	-- The remote's own settings differ from the coordinator's: only its values must come across.
	ALTER ROLE reader SET TimeZone = 'Pacific/Chatham';
	ALTER ROLE reader SET DateStyle = 'SQL, DMY';
	ALTER ROLE reader SET IntervalStyle = 'iso_8601';
	ALTER ROLE reader SET extra_float_digits = 0;
});
$remote->safe_psql('mixed_db', q{
	CREATE EXTENSION seg;
	CREATE DOMAIN positive AS int CHECK (VALUE > 0);
	CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
	CREATE TABLE mixed (id int PRIMARY KEY, i2 int2, i8 int8, n numeric, f4 float4, f8 float8, t text, b bytea,
	                    ok bool, d date, ts timestamp, tz timestamptz, iv interval, u uuid, j jsonb, ia int4[],
	                    ta text[], dm positive, m mood, s seg, o oid);
	-- Each edge value recurs (g % 20, g % 7, ...): rows 1 to 14 come in text, the later ones in binary.
	INSERT INTO mixed
	SELECT g,
	       CASE g % 20 WHEN 1 THEN -32768 WHEN 2 THEN 32767 ELSE g * 7 END,
	       CASE g % 20 WHEN 1 THEN -9223372036854775808 WHEN 2 THEN 9223372036854775807 ELSE g * 1000000007::int8 END,
	       CASE g % 7 WHEN 0 THEN 'NaN'::numeric WHEN 1 THEN ('0.' || repeat('0', 300) || g)::numeric
	                  WHEN 2 THEN repeat('9', 500)::numeric WHEN 3 THEN 'Infinity' WHEN 4 THEN '-Infinity'
	                  WHEN 5 THEN NULL ELSE -g / 7.0 END,
	       CASE g % 6 WHEN 0 THEN 'NaN'::float4 WHEN 1 THEN 'Infinity' WHEN 2 THEN '-0' WHEN 3 THEN '-Infinity'
	                  WHEN 4 THEN 1.17549435e-38 ELSE g / 3.0 END,
	       CASE g % 6 WHEN 0 THEN 'NaN'::float8 WHEN 1 THEN '-Infinity' WHEN 2 THEN '-0' WHEN 3 THEN 1e308
	                  WHEN 4 THEN 5e-324 ELSE g / 3.0 END,
	       CASE WHEN g % 9 = 0 THEN NULL ELSE 'zażółć gęślą jaźń 日本語 🐘 ' || g END,
	       decode(md5(g::text), 'hex') || '\x00ff'::bytea,
	       CASE g % 3 WHEN 0 THEN NULL ELSE g % 2 = 0 END,
	       CASE g % 20 WHEN 3 THEN '4714-11-24 BC'::date WHEN 4 THEN '5874897-12-31'
	            ELSE CASE g % 5 WHEN 0 THEN 'infinity'::date WHEN 1 THEN '-infinity' WHEN 2 THEN '4713-01-01 BC'
	                  ELSE date '2000-02-28' + g END END,
	       -- the first and the last timestamp Postgres has, besides the infinities
	       CASE g % 20 WHEN 2 THEN '4714-11-24 00:00:00 BC'::timestamp WHEN 3 THEN '294276-12-31 23:59:59.999999'
	            ELSE CASE g % 4 WHEN 0 THEN 'infinity'::timestamp WHEN 1 THEN '-infinity'
	                  ELSE timestamp '1999-12-31 23:59:59.999999' + g * interval '1 day 1 microsecond' END END,
	       CASE g % 20 WHEN 2 THEN '4714-11-24 00:00:00+00 BC'::timestamptz WHEN 3 THEN '294276-12-31 23:59:59.999999+00'
	            ELSE CASE g % 4 WHEN 0 THEN '-infinity'::timestamptz WHEN 1 THEN 'infinity'
	                  ELSE timestamptz '2024-03-31 01:59:59.5+00' + g * interval '37 minutes' END END,
	       CASE g % 3 WHEN 0 THEN interval '-1 days +02:00:00.000001'
	                  ELSE interval '1 year 2 months 3 days 04:05:06.789' * g END,
	       md5(g::text)::uuid,
	       jsonb_build_object('g', g, 'ü', 'ß', 'arr', jsonb_build_array(1.5, NULL, true, 1e-20)),
	       ARRAY[g, NULL, -g],
	       ARRAY['a,b', NULL, 'ñ "q" ' || g, ''],
	       g,
	       (ARRAY['sad', 'ok', 'happy'])[g % 3 + 1]::mood,
	       (g || ' .. ' || g + 1)::seg,
	       CASE g % 20 WHEN 1 THEN 4294967295 WHEN 2 THEN 0 ELSE g * 1000003 END::oid
	FROM generate_series(1, 60) g;
	GRANT SELECT ON mixed TO reader;
});
$remote->safe_psql('ascii_db', q{
	CREATE TABLE raw (id int, t text);
	INSERT INTO raw SELECT g, CASE WHEN g = 50 THEN E'bad \xff byte' ELSE 'fine ' || g END FROM generate_series(1, 60) g;
	GRANT SELECT ON raw TO reader;
});

my $coordinator = start_coordinator();
$coordinator->safe_psql('postgres', q{
	CREATE DATABASE coord TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C';
});
$coordinator->safe_psql('coord', 'CREATE EXTENSION multidb; CREATE EXTENSION seg');
add_connection($coordinator, 'r1', $remote, dbname => 'mixed_db', in => 'coord');
add_connection($coordinator, 'r2', $remote, dbname => 'mixed_db', in => 'coord');
add_connection($coordinator, 'ascii', $remote, dbname => 'ascii_db', in => 'coord');

# Seven rows in each of the first two batches, which are text (the second FETCH goes out before the first batch is
# read); the later ones binary, and larger (batches grow while small).
my $session = "SET multidb.fetch_size = 7; SET TimeZone = 'America/Sao_Paulo'; SET DateStyle = 'Postgres, MDY'; "
  . "SET IntervalStyle = 'sql_standard'; SET client_min_messages = debug1; ";
my $binary = 'SET multidb.keep_connections = on; ';
my $text = 'SET multidb.keep_connections = off; SET multidb.max_workers = 4; ';  # a background worker: text

sub on_coordinator
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $coordinator->psql('coord', $session . $sql, extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	return ($ret, $out, $err);
}

my $columns = 'id, i2, i8, n, f4, f8, t, b, ok, d, ts, tz, iv, u, j, ia, ta, dm, o';
my $typed = 'source_db text, id int, i2 int2, i8 int8, n numeric, f4 float4, f8 float8, t text, b bytea, ok bool, '
  . 'd date, ts timestamp, tz timestamptz, iv interval, u uuid, j jsonb, ia int4[], ta text[], dm int, o oid';
my $rows_query = "SELECT * FROM multidb.fanout_rows('SELECT $columns FROM mixed ORDER BY id', ARRAY['r1']) AS s($typed)";

# ---- fanout_rows: every built-in type, in binary, equal to the text path and to the remote's own output -----
my ($ret, $binary_out, $err) = on_coordinator($binary . $rows_query);
is($ret, 0, 'fanout_rows over 60 rows of mixed built-in types, 7 rows a batch, kept connection: no error')
  or diag($err);
like($err, qr/connection "r1" asks for rows in binary.*connection "r1" reads rows in binary from row 15\b/s,
	'... and it read them in binary from the third batch on (DEBUG1)');
(my $text_ret, my $text_out, $err) = on_coordinator($text . $rows_query);
like($err, qr/connection "r1" reads rows in text: its background worker passes values as text/,
	'through a background worker the same rows come in text');
is(scalar(split /\n/, $binary_out), 60, 'binary: 60 rows');
is($binary_out, $text_out, 'every value read in binary equals the value read in text');
my $direct = $remote->safe_psql('mixed_db',
	"SET TimeZone = 'America/Sao_Paulo'; SET DateStyle = 'Postgres, MDY'; SET IntervalStyle = 'sql_standard'; "
	  . "SET extra_float_digits = 1; SELECT 'r1', $columns FROM mixed ORDER BY id");
is($binary_out, $direct, '... and the remote\'s own output of the same query');
like($binary_out, qr/\|NaN\|NaN\|NaN\|/, 'NaN of numeric, real and double precision came through');
like($binary_out, qr/\|-0\|-0\|/, 'so did -0');
like($binary_out, qr/zażółć gęślą jaźń 日本語 🐘 60/, 'and multibyte text');
like($binary_out, qr/^r1\|43\|(?:[^|]*\|){8}11-24-4714 BC\|Sun Dec 31 23:59:59\.999999 294276\|/m,
	'the first date and the last timestamp Postgres has came through, in a binary batch (row 43)');
like($binary_out, qr/^r1\|41\|-32768\|-9223372036854775808\|(?:[^|]*\|){15}4294967295$/m,
	'so did the smallest int2 and int8, and the largest oid (row 41)');

# ---- typmods and conversions -------------------------------------------------------------------------------
my $typmod_query = q{SELECT * FROM multidb.fanout_rows('SELECT g / 1000.0 AS n, (''ab'' || g)::varchar AS v }
  . q{FROM generate_series(1, 40) g', ARRAY['r1']) AS s(source_db text, n numeric(10,2), v varchar(4))};
($ret, my $typmod_binary, $err) = on_coordinator($binary . $typmod_query);
like($err, qr/connection "r1" reads rows in binary from row 15\b/, 'numeric and varchar into numeric(10,2) and varchar(4): binary');
(undef, my $typmod_text) = on_coordinator($text . $typmod_query);
is($typmod_binary, $typmod_text, '... rounded to the column\'s scale as the text path rounds');
like($typmod_binary, qr/^r1\|0\.04\|ab40$/m, '... 0.040 into numeric(10,2) is 0.04 in a binary batch');
for my $case (
	[ 'varchar(3)', q{(''ab'' || g)::varchar AS v}, 'v varchar(3)', qr/22001: value too long for type character varying\(3\)/ ],
	[ 'numeric(10,2)', q{CASE WHEN g = 30 THEN 123456789.5 ELSE g END::numeric AS n}, 'n numeric(10,2)',
	  qr/22003: numeric field overflow/ ])
{
	my ($name, $expr, $column) = @$case;
	my $query = "SELECT * FROM multidb.fanout_rows('SELECT $expr FROM generate_series(1, 40) g', ARRAY['r1']) "
	  . "AS s(source_db text, $column)";
	($ret, undef, $err) = on_coordinator($binary . $query);
	like($err, $case->[3], "a value too large for $name in a binary batch: the same ERROR as in text");
	like($err, qr/column "\w" \(remote type: [^)]+\) of connection "r1"/, '... naming the column and the connection');
	(undef, undef, my $text_err) = on_coordinator($text . $query);
	like($text_err, $case->[3], "... and in text");
}

# A timestamp's precision: the receive function rounds (timestamp(0), timestamptz(2)) in binary as the input
# function does in text.
my $precision_query = q{SELECT * FROM multidb.fanout_rows('SELECT timestamp ''2000-01-01 00:00:00.5'' + g * }
  . q{interval ''1.2345 s'' AS ts, timestamptz ''2000-01-01 00:00:00.005+00'' + g * interval ''1.2345 s'' AS tz }
  . q{FROM generate_series(1, 40) g', ARRAY['r1']) AS s(source_db text, ts timestamp(0), tz timestamptz(2))};
($ret, my $precision_binary, $err) = on_coordinator($binary . $precision_query);
like($err, qr/connection "r1" reads rows in binary from row 15\b/, 'timestamp(0) and timestamptz(2): binary');
(undef, my $precision_text) = on_coordinator($text . $precision_query);
is($precision_binary, $precision_text, '... rounded to the precision as the text path rounds');
like($precision_binary, qr/^r1\|Sat Jan 01 00:00:50 2000\|Fri Dec 31 22:00:49\.39 1999 -02$/m,
	'... 00:00:49.88 into timestamp(0) is 00:00:50 in a binary batch');

# int4 declared int8, numeric declared text: read in text, converted by the input function as before.
my $other_query = q{SELECT * FROM multidb.fanout_rows('SELECT id, n FROM mixed ORDER BY id', ARRAY['r1']) }
  . q{AS s(source_db text, id int8, n text)};
($ret, my $other_out, $err) = on_coordinator($binary . $other_query);
like($err, qr/connection "r1" reads rows in text: column "id" \(remote type: integer\) is received as another type/,
	'int4 declared int8: the result is read in text, the DEBUG1 message names the column');
is($other_out, $remote->safe_psql('mixed_db', "SET extra_float_digits = 1; SELECT 'r1', id, n FROM mixed ORDER BY id"),
	'... and the values are converted as before');

# A user-defined enum the coordinator lacks and an extension's type without binary I/O (seg has no send function):
# the remote's own types, read in text.
my $own_query = q{SELECT * FROM multidb.fanout_rows('SELECT id, dm, m, s FROM mixed ORDER BY id', ARRAY['r1']) }
  . q{AS s(source_db text, id int, dm int, m text, s seg)};
($ret, my $own_out, $err) = on_coordinator($binary . $own_query);
like($err, qr/connection "r1" reads rows in text: column "m" \(remote type: a type of the remote's own \(OID \d+\)\)/,
	'an enum the coordinator lacks keeps the result in text, naming the column');
is($own_out, $remote->safe_psql('mixed_db', "SELECT 'r1', id, dm, m, s FROM mixed ORDER BY id"),
	'... and its values, the domain\'s and seg\'s are right');

# A session whose client_encoding is not the database's: text (receive functions of text types convert from it).
{
	local $ENV{PGCLIENTENCODING} = 'LATIN1';
	my $latin_query = q{SELECT * FROM multidb.fanout_rows('SELECT id, ''é'' || id AS t FROM mixed ORDER BY id', }
	  . q{ARRAY['r1']) AS s(source_db text, id int, t text)};
	($ret, my $latin_binary, $err) = on_coordinator($binary . $latin_query);
	like($err, qr/connection "r1" reads rows in text: client_encoding LATIN1 is not the database's encoding UTF8/,
		'client_encoding LATIN1 on a UTF8 database: text');
	(undef, my $latin_text) = on_coordinator($text . $latin_query);
	is($latin_binary, $latin_text, '... and the values are those of the text path');
}

# ---- a value that is not valid in this database's encoding ---------------------------------------------------
# A SQL_ASCII database holds any byte; its own send function checks it against the connection's client_encoding,
# so the invalid byte never reaches the coordinator's receive function: an ERROR naming the connection.
($ret, undef, $err) = on_coordinator($binary
	  . q{SELECT * FROM multidb.fanout_rows('SELECT id, t FROM raw ORDER BY id', ARRAY['ascii']) AS s(source_db text, id int, t text)});
like($err, qr/connection "ascii" reads rows in binary from row 15\b/, 'a SQL_ASCII remote: binary');
like($err, qr/ERROR:  22021: connection "ascii": invalid byte sequence for encoding "UTF8": 0xff/,
	'... its invalid byte in a binary batch is an ERROR (22021) naming the connection');
is($coordinator->safe_psql('coord', 'SELECT 1'), '1', 'the coordinator is still up');

# ---- the combine step: each target's own typed result in binary ---------------------------------------------
my $plan = encode_json({
	queries => [ { database => 'r1', sql => "SELECT $columns FROM mixed ORDER BY id" },
		{ database => 'r2', sql => 'SELECT id, m, s FROM mixed ORDER BY id' } ],
	combine => 'SELECT r1.*, r2.m, r2.s FROM r1 JOIN r2 ON r1.id = r2.id ORDER BY r1.id',
	explanation => 'scripted' });
my $plan_query = "SELECT source_db, row_data FROM multidb.run_plan('$plan'::jsonb)";
($ret, my $plan_binary, $err) = on_coordinator($binary . $plan_query);
is($ret, 0, 'run_plan with a combine step over two steps') or diag($err);
like($err, qr/connection "r1" reads rows in binary from row 15\b/, '... the step of built-in types is read in binary');
like($err, qr/connection "r2" reads rows in text: column "m"/, '... the step with an enum in text');
(undef, my $plan_text, $err) = on_coordinator($text . $plan_query);
is(scalar(split /\n/, $plan_binary), 60, '... 60 combined rows');
is($plan_binary, $plan_text, '... equal to those of the text path');

done_testing();
