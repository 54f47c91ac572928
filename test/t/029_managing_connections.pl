# Managing connections (0.7): add_connection tries a connection within multidb.connect_timeout and keeps nothing
# when it fails; drop_connection closes the kept connections to it and will not take a connection out of another
# role's group; ALTER EXTENSION multidb UPDATE from 0.6 brings the new functions, and calls written for 0.6 work.
use strict;
use warnings;

use IO::Socket::INET;
use MultidbCluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $remote = start_remote('remote');
my $coordinator = start_coordinator();
my $port = $remote->port;
my $conninfo = "host=127.0.0.1 port=$port dbname=postgres user=reader password=secret";

# 1. A server that accepts TCP but never speaks: refused once the connect deadline passes, nothing kept.
my $silent = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 5, Proto => 'tcp')
  or die "listener: $!";
my $silent_port = $silent->sockport;
my $start = time;
my ($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SET multidb.connect_timeout = '2s'; "
	  . "SELECT multidb.add_connection('silent', 'host=127.0.0.1 port=$silent_port dbname=x user=x password=x')");
my $elapsed = time - $start;
isnt($ret, 0, 'a server that never answers is refused');
like($stderr, qr/connection "silent" was not added: could not connect within 2 s/,
	'... naming the connection and the connect deadline') or diag($stderr);
like($stderr, qr/validate => false/, '... with the way to add it untried');
ok($elapsed < 15, "... once the connect deadline passes (${elapsed}s)");
is($coordinator->safe_psql('postgres', q{
	SELECT (SELECT count(*) FROM pg_foreign_server WHERE srvname = 'silent') || ' '
	       || (SELECT count(*) FROM pg_user_mappings WHERE srvname = 'silent')}), '0 0', '... and no server or user mapping is left');
$coordinator->safe_psql('postgres',
	"SELECT multidb.add_connection('silent', 'host=127.0.0.1 port=$silent_port dbname=x user=x password=x', validate => false)");
is($coordinator->safe_psql('postgres', "SELECT count(*) FROM multidb.connections WHERE name = 'silent'"), '1',
	'validate => false adds it untried');
$coordinator->safe_psql('postgres', "SELECT multidb.drop_connection('silent')");
close $silent;

# 2. drop_connection closes this session's kept connections to it (the remote session ends).
add_connection($coordinator, 'r1', $remote);
($ret, $stdout, $stderr) = $coordinator->psql('postgres', join('; ',
	'SET multidb.keep_connections = on',
	"SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY['r1'])",
	'SELECT count(*) FROM multidb.open_connections()',
	"SELECT multidb.drop_connection('r1')",
	'SELECT count(*) FROM multidb.open_connections()'));
is($stdout, "1\n1\n\n0", 'drop_connection closes the kept connection to it') or diag($stderr);
ok($remote->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'multidb'"),
	'... and no remote session is left');
is($coordinator->safe_psql('postgres', "SELECT count(*) FROM pg_foreign_server WHERE srvname = 'r1'"), '0',
	'... and the server is gone');

# 3. A group of another role that names the connection: not the caller's to change, even with cascade.
add_connection($coordinator, 'r2', $remote);
$coordinator->safe_psql('postgres', q{
	CREATE ROLE other LOGIN;
	GRANT USAGE ON SCHEMA multidb TO other;
	GRANT USAGE ON FOREIGN SERVER r2 TO other;
	CREATE USER MAPPING FOR other SERVER r2 OPTIONS (user 'reader', password 'secret');
	SET ROLE other;
	SELECT multidb.create_group('theirs', ARRAY['r2']);
	RESET ROLE;
});
($ret, $stdout, $stderr) = $coordinator->psql('postgres', "SELECT multidb.drop_connection('r2', cascade => true)");
like($stderr, qr/connection "r2" is in groups of other roles: "\@theirs" \(owner other\)/,
	"drop_connection refuses to change another role's group, naming it and its owner") or diag($stderr);
is($coordinator->safe_psql('postgres', q{
	SELECT (SELECT count(*) FROM pg_foreign_server WHERE srvname = 'r2') || ' '
	       || (SELECT count(*) FROM pg_user_mappings WHERE srvname = 'r2')}), '1 2', '... and drops nothing');
# once its owner drops the group, the connection goes with every role's user mapping
$coordinator->safe_psql('postgres', q{
	SET ROLE other; SELECT multidb.drop_group('theirs'); RESET ROLE;
	SELECT multidb.drop_connection('r2');
});
is($coordinator->safe_psql('postgres', q{
	SELECT (SELECT count(*) FROM pg_foreign_server WHERE srvname = 'r2') || ' '
	       || (SELECT count(*) FROM pg_user_mappings WHERE srvname = 'r2')}), '0 0',
	"drop_connection removes every role's user mapping with the server");

# 4. ALTER EXTENSION multidb UPDATE from 0.6: calls written for 0.6 work before and after; the new ones come.
$coordinator->safe_psql('postgres', 'CREATE DATABASE upgraded');
$coordinator->safe_psql('upgraded', "CREATE EXTENSION multidb VERSION '0.6'");
$coordinator->safe_psql('upgraded', "SELECT multidb.add_connection('before', '$conninfo', 'made at 0.6')");
$coordinator->safe_psql('upgraded', q{ALTER EXTENSION multidb UPDATE TO '0.7'});
is($coordinator->safe_psql('upgraded', q{
	SELECT extversion FROM pg_extension WHERE extname = 'multidb'}), '0.7', 'ALTER EXTENSION multidb UPDATE TO 0.7 from 0.6 gives 0.7');
is($coordinator->safe_psql('upgraded', q{
	SELECT string_agg(p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', ' ' ORDER BY p.proname)
	  FROM pg_proc p WHERE p.pronamespace = 'multidb'::regnamespace
	   AND p.proname IN ('add_connection', 'drop_connection', 'alter_group', 'compare')}),
	'add_connection(name text, conninfo text, description text, validate boolean) '
	  . 'alter_group(name text, add text[], remove text[]) '
	  . 'compare(sql text, a text, b text, key text[], columns text) '
	  . 'drop_connection(name text, cascade boolean)',
	'... with add_connection(validate), drop_connection, alter_group and compare(columns)');
is($coordinator->safe_psql('upgraded', join('; ',
	"SELECT multidb.add_connection('after', '$conninfo')",
	"SELECT multidb.create_group('both', ARRAY['before'])",
	"SELECT multidb.alter_group('both', add => ARRAY['after'])",
	"SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY['\@both'])",
	"SELECT count(*) FROM multidb.compare('SELECT id FROM items', 'before', 'after', ARRAY['id'])",
	"SELECT multidb.drop_connection('before', cascade => true)",
	"SELECT connections::text FROM multidb.connection_groups")),
	"\n\n\n2\n0\n\n{after}", '... and they work there, on a connection made at 0.6 too');

done_testing();
