# What a statement reaches without naming it, on a remote whose owner made hostile objects: a VOLATILE
# function side() that takes a session advisory lock, hidden behind a domain's CHECK, an enum's implicit cast to
# text and its cast to json, the enum's comparison operators (reached by CASE, BETWEEN and IN) and its default
# operator class (ORDER BY, DISTINCT); a remote role whose search_path puts a lying public.= before pg_catalog; a
# LATIN1 database where a long name is cut somewhere else than here; an allowlist entry with a signature; the
# XID assigners. Each database holds one hazard, so that each refusal is its own: a remote with any volatile
# function behind a cast, an operator, an operator class, a type or a domain is refused for every statement,
# naming the object, until it is allowlisted or the server option allow_implicit_volatile accepts the risk.
use strict;
use warnings;

use MultidbCluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $remote = start_remote('hostile');
my $coordinator = start_coordinator();

# side(): VOLATILE, takes a session advisory lock that outlives the transaction, and says yes.
my $side = q{
	CREATE FUNCTION side(text) RETURNS boolean LANGUAGE sql VOLATILE AS $$ SELECT pg_advisory_lock(4242); SELECT true $$;
	GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader;
};
my %hazard = (
	domain => q{
		CREATE DOMAIN dchk AS text CHECK (side(VALUE));
		CREATE TABLE notes (v text); INSERT INTO notes VALUES ('a');
	},
	enum_cast => q{
		CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
		CREATE TABLE moods (m mood); INSERT INTO moods VALUES ('sad'), ('happy');
		CREATE FUNCTION mood_text(mood) RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT pg_advisory_lock(4242); SELECT 'x' $$;
		CREATE CAST (mood AS text) WITH FUNCTION mood_text(mood) AS IMPLICIT;
	},
	json_cast => q{
		CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
		CREATE TABLE moods (m mood); INSERT INTO moods VALUES ('sad'), ('happy');
		CREATE FUNCTION mood_json(mood) RETURNS json LANGUAGE sql VOLATILE AS $$ SELECT pg_advisory_lock(4242); SELECT '1'::json $$;
		CREATE CAST (mood AS json) WITH FUNCTION mood_json(mood);
	},
	operator => q{
		CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
		CREATE TABLE moods (m mood); INSERT INTO moods VALUES ('sad'), ('happy');
		CREATE FUNCTION mood_eq(mood, mood) RETURNS boolean LANGUAGE sql VOLATILE AS $$ SELECT pg_advisory_lock(4242); SELECT $1::text = $2::text $$;
		CREATE FUNCTION mood_ge(mood, mood) RETURNS boolean LANGUAGE sql VOLATILE AS $$ SELECT pg_advisory_lock(4242); SELECT $1::text >= $2::text $$;
		CREATE FUNCTION mood_le(mood, mood) RETURNS boolean LANGUAGE sql VOLATILE AS $$ SELECT pg_advisory_lock(4242); SELECT $1::text <= $2::text $$;
		CREATE OPERATOR = (LEFTARG = mood, RIGHTARG = mood, FUNCTION = mood_eq);
		CREATE OPERATOR >= (LEFTARG = mood, RIGHTARG = mood, FUNCTION = mood_ge);
		CREATE OPERATOR <= (LEFTARG = mood, RIGHTARG = mood, FUNCTION = mood_le);
	},
	opclass => q{
		CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
		CREATE TABLE moods (m mood); INSERT INTO moods VALUES ('sad'), ('happy'), ('sad');
		CREATE FUNCTION mood_cmp(mood, mood) RETURNS integer LANGUAGE sql VOLATILE AS $$ SELECT pg_advisory_lock(4242); SELECT enum_cmp($1, $2) $$;
		CREATE OPERATOR CLASS mood_ops DEFAULT FOR TYPE mood USING btree AS
		  OPERATOR 1 pg_catalog.< (anyenum, anyenum), OPERATOR 2 pg_catalog.<= (anyenum, anyenum),
		  OPERATOR 3 pg_catalog.= (anyenum, anyenum), OPERATOR 4 pg_catalog.>= (anyenum, anyenum),
		  OPERATOR 5 pg_catalog.> (anyenum, anyenum), FUNCTION 1 mood_cmp(mood, mood);
	},
);

$remote->safe_psql('postgres', "CREATE DATABASE $_") for sort keys %hazard;
for my $db (sort keys %hazard)
{
	$remote->safe_psql($db, $side . $hazard{$db} . 'GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader;');
	add_connection($coordinator, $db, $remote, dbname => $db, validate => 0);  # refused at each use, below
}
$remote->safe_psql('postgres', 'CREATE DATABASE clean');
add_connection($coordinator, 'clean', $remote, dbname => 'clean');

$coordinator->safe_psql('postgres', q{
	CREATE FUNCTION verdict(sql text, connection text) RETURNS text LANGUAGE plpgsql AS $$
	DECLARE rows text;
	BEGIN
	  SELECT string_agg(row_data::text, ';') INTO rows FROM multidb.fanout(sql, ARRAY[connection]);
	  RETURN 'ok: ' || coalesce(rows, '');
	EXCEPTION WHEN OTHERS THEN
	  RETURN SQLSTATE || ': ' || SQLERRM;
	END $$;
});

sub verdict
{
	my ($connection, $sql, %opts) = @_;
	return $coordinator->safe_psql('postgres', ($opts{session} // '') . "SELECT verdict(\$q\$$sql\$q\$, '$connection')");
}

sub advisory_locks
{
	return $remote->safe_psql('postgres', "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'");
}

# 1. Every way in, refused before anything ran, naming what it would have reached.
my @attacks = (
	[ 'domain', q{SELECT 'd1'::dchk AS v}, 'a cast to a domain whose CHECK calls it', qr/side\(text\)/ ],
	[ 'domain', q{SELECT dchk('d2') AS v}, 'the domain in function-call notation', qr/side\(text\)/ ],
	[ 'domain', q{SELECT (n.v).dchk FROM notes n}, 'the domain in attribute notation', qr/side\(text\)/ ],
	[ 'enum_cast', q{SELECT upper(m) FROM moods}, "an enum's implicit cast to text", qr/mood_text\((public\.)?mood\)/ ],
	[ 'json_cast', q{SELECT to_json(m) FROM moods}, "an enum's cast to json, through to_json", qr/mood_json\((public\.)?mood\)/ ],
	[ 'operator', q{SELECT CASE m WHEN 'happy' THEN 1 ELSE 0 END AS c FROM moods}, 'CASE reaching =', qr/mood_eq\((public\.)?mood, (public\.)?mood\)/ ],
	[ 'operator', q{SELECT m BETWEEN 'sad' AND 'ok' AS b FROM moods}, 'BETWEEN reaching >= and <=', qr/operator/ ],
	[ 'operator', q{SELECT count(*) AS n FROM moods WHERE m IN ('happy', 'ok')}, 'IN reaching =', qr/operator/ ],
	[ 'opclass', q{SELECT DISTINCT m FROM moods ORDER BY m}, 'ORDER BY and DISTINCT reaching the default operator class', qr/mood_cmp\((public\.)?mood, (public\.)?mood\)/ ],
	[ 'domain', q{SELECT 1 AS one}, 'any statement, on a database with such a domain', qr/dchk/ ],
);
for my $attack (@attacks)
{
	my ($db, $sql, $what, $names) = @$attack;
	my $result = verdict($db, $sql);
	like($result, qr/^42501: .*VOLATILE/, "$what: refused") or diag($result);
	like($result, $names, "$what: the refusal names what it would reach");
}
is(advisory_locks(), '0', 'no advisory lock was taken on the remote, so nothing of it ran');
is(verdict('clean', 'SELECT 1 AS one'), 'ok: {"one": 1}', 'a database without such objects answers');

# The refusal says what to do about it.
my ($ret, $stdout, $stderr) = $coordinator->psql('postgres', "SELECT * FROM multidb.fanout('SELECT 1', ARRAY['domain'])");
like($stderr, qr/HINT:.*extra_allowed_volatile_functions.*allow_implicit_volatile/s,
	'the HINT names the allowlist and the server option') or diag($stderr);

# 2. The DBA accepts it: the allowlist with the function's signature, or the server option (a WARNING at each use).
is(verdict('domain', 'SELECT 1 AS one', session => "SET multidb.extra_allowed_volatile_functions = 'public.side(text)'; "),
	'ok: {"one": 1}', 'allowlisted by its signature, the domain database answers');
$coordinator->safe_psql('postgres', "ALTER SERVER opclass OPTIONS (ADD allow_implicit_volatile 'true')");
($ret, $stdout, $stderr) = $coordinator->psql('postgres', "SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY['opclass'])");
is($stdout, '1', 'allow_implicit_volatile: the statement runs');
like($stderr, qr/WARNING:.*allow_implicit_volatile/, '... with a WARNING naming the option') or diag($stderr);
$coordinator->safe_psql('postgres', 'CREATE ROLE plain LOGIN');
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SET ROLE plain; ALTER SERVER clean OPTIONS (ADD allow_implicit_volatile 'true')");
like($stderr, qr/superuser|must be owner/, 'only a superuser may set allow_implicit_volatile') or diag($stderr);

# 3. The checks read the remote's catalog whatever the remote role's search_path: a public.= that answers false,
# first in the path, neither hides a superuser nor an aggregate's volatile transition function.
$remote->safe_psql('postgres', q{
	CREATE DATABASE pathdb;
	CREATE ROLE su1 LOGIN SUPERUSER PASSWORD 'secret';
	ALTER ROLE reader IN DATABASE pathdb SET search_path = public, pg_catalog;
	ALTER ROLE su1 IN DATABASE pathdb SET search_path = public, pg_catalog;
});
$remote->safe_psql('pathdb', q{
	CREATE FUNCTION lie(name, name) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT false';
	CREATE OPERATOR public.= (LEFTARG = name, RIGHTARG = name, FUNCTION = lie);
	CREATE FUNCTION lie_oid(oid, regproc) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT false';
	CREATE OPERATOR public.= (LEFTARG = oid, RIGHTARG = regproc, FUNCTION = lie_oid);
	CREATE FUNCTION lie_regproc(regproc, oid) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT false';
	CREATE OPERATOR public.= (LEFTARG = regproc, RIGHTARG = oid, FUNCTION = lie_regproc);
	CREATE FUNCTION step(text, text) RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT pg_advisory_lock(4243); SELECT $2 $$;
	CREATE AGGREGATE sneaky(text) (SFUNC = step, STYPE = text);
	CREATE TABLE words (w text); INSERT INTO words VALUES ('a'), ('b');
	GRANT SELECT ON words TO reader;
});
add_connection($coordinator, 'path_reader', $remote, dbname => 'pathdb', validate => 0);
add_connection($coordinator, 'path_super', $remote, dbname => 'pathdb', user => 'su1', validate => 0);
like(verdict('path_super', 'SELECT 1 AS one'), qr/^42501: .*superuser/, 'a lying public.= does not hide a superuser');
my $result = verdict('path_reader', 'SELECT sneaky(w) FROM words');
like($result, qr/^42501: .*sneaky/, "... nor an aggregate's volatile transition function") or diag($result);
is(advisory_locks(), '0', '... which never ran');

# 4. A long name is compared as the remote cuts it: in a LATIN1 database 'é' is one byte, here it is two, so
# the coordinator's lexer cuts a 70-letter name after 31 letters and the remote's after 63.
$remote->safe_psql('postgres', "CREATE DATABASE latin TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'");
my $cut_here = 'é' x 31;
my $cut_there = 'é' x 63;
my $written = 'é' x 70;
$remote->safe_psql('latin', "SET client_encoding = 'UTF8';
	CREATE FUNCTION \"$cut_here\"() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 1';
	CREATE FUNCTION \"$cut_there\"() RETURNS int LANGUAGE sql VOLATILE AS \$\$ SELECT pg_advisory_lock(4244); SELECT 2 \$\$;");
add_connection($coordinator, 'latin', $remote, dbname => 'latin');
$result = verdict('latin', "SELECT \"$written\"() AS n");
like($result, qr/^42501: .*VOLATILE/, 'a long name is judged as the LATIN1 remote cuts it') or diag($result);
is(advisory_locks(), '0', '... and its volatile function never ran');
is(verdict('latin', "SELECT \"$cut_here\"() AS n"), 'ok: {"n": 1}', 'the short name still reaches the harmless function');

# 5. An allowlist entry with a signature admits that overload only; a bare name, every overload (as said).
$remote->safe_psql('clean', q{
	CREATE FUNCTION gen_id() RETURNS int LANGUAGE sql VOLATILE AS 'SELECT 7';
	CREATE FUNCTION gen_id(int) RETURNS int LANGUAGE sql VOLATILE AS $$ SELECT pg_advisory_lock(4245); SELECT $1 $$;
});
my $allow_one = "SET multidb.extra_allowed_volatile_functions = 'public.gen_id()'; ";
is(verdict('clean', 'SELECT gen_id() AS id', session => $allow_one), 'ok: {"id": 7}', 'public.gen_id() allowed by its signature');
like(verdict('clean', 'SELECT gen_id(1) AS id', session => $allow_one), qr/^42501: .*gen_id\(integer\)/,
	'... but not the owner-made overload gen_id(integer)');
is(verdict('clean', 'SELECT gen_id(1) AS id', session => "SET multidb.extra_allowed_volatile_functions = 'public.gen_id'; "),
	'ok: {"id": 1}', 'a bare name allows every overload');
($ret, $stdout, $stderr) = $coordinator->psql('postgres', "LOAD 'multidb'; SET multidb.extra_allowed_volatile_functions = 'public.gen_id(int'");
like($stderr, qr/invalid value/, 'a malformed signature is refused when set') or diag($stderr);

# 6. The XID assigners: STABLE, yet they assign a transaction id inside READ ONLY.
for my $call ('txid_current()', 'pg_current_xact_id()')
{
	like(verdict('clean', "SELECT $call AS x"), qr/^42501: .*denied/, "$call is denied");
}

done_testing();
