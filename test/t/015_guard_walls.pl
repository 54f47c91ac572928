# The guard against attacks the project did not write for itself: a remote with contrib extensions
# (tablefunc, xml2, dblink, pg_surgery, pg_prewarm, pageinspect, pg_stat_statements), a reader, a table
# owner and a superuser. Per class of hole — the lexing mismatch both ways, SQL-text runners,
# non-transactional writers, file readers, replication, privileged roles — statements that must be refused
# before they run; afterwards the remote is unchanged: the victim session alive, the rows intact, the
# index pages the same, no file written, no slot or origin made, and pg_stat_statements shows that none of
# them was ever declared there.
use strict;
use warnings;

use MultidbAttack;
use MultidbCluster;
use MultidbPooler;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $remote = start_contrib_remote('contrib');

my $coordinator = start_attack_coordinator($remote);
add_connection($coordinator, 'as_selector', $remote, user => 'selector');
add_connection($coordinator, 'as_owner', $remote, user => 'tableowner');
# (privileged roles, which add_connection would refuse at once: added untried, to be refused at each use)
add_connection($coordinator, $_, $remote, user => $_, validate => 0)
  for qw(replicator rlsbypass signaller filereader programmer chameleon);
add_connection($coordinator, 'as_admin_plain', $remote, user => 'admin', validate => 0);

my ($victim, $victim_pid) = start_victim_session($remote);
ok($victim_pid, 'the victim session is up');
my $before = contrib_remote_state($remote);
$remote->safe_psql('postgres', 'SELECT pg_stat_statements_reset()');

sub refused_before_running
{
	my ($connection, $sql, $what, %opts) = @_;
	my $result = $coordinator->safe_psql('postgres',
		($opts{session} // '') . "SELECT verdict(\$attack\$$sql\$attack\$, '$connection')");
	like($result, qr/^42501: /, "$what: refused") or diag($result);
	return $result;
}

# 1. The lexing mismatch, the caller's way: this session says standard_conforming_strings = off, so a
# backslash seems to escape the quote and the call seems to be inside the string. The guard reads the text
# as the remote will (standard-conforming) and sees the call.
my $off = 'SET standard_conforming_strings = off; ';
refused_before_running('as_admin', "SELECT 'x\\', pg_terminate_backend($victim_pid) -- '",
	'caller off: pg_terminate_backend behind a backslash', session => $off);
refused_before_running('as_admin', "SELECT 'x\\', dblink_exec('dbname=postgres', 'DELETE FROM victim') -- '",
	'caller off: dblink_exec behind a backslash', session => $off);
refused_before_running('as_admin', "SELECT 'x\\', heap_force_kill('victim'::regclass, ARRAY['(0,1)'::tid]) -- '",
	'caller off: heap_force_kill behind a backslash', session => $off);

# 1b. The remote's way: the remote roles say standard_conforming_strings = off. What the guard reads as one
# string must stay one string there: multidb pins the setting at connect, so the call is never code.
$remote->safe_psql('postgres', 'ALTER ROLE admin SET standard_conforming_strings = off; '
	  . 'ALTER ROLE selector SET standard_conforming_strings = off');
for my $call ("pg_terminate_backend($victim_pid)", "pg_cancel_backend($victim_pid)", 'pg_reload_conf()')
{
	my $result = $coordinator->safe_psql('postgres',
		"SELECT verdict(\$attack\$SELECT '\\'', $call --' AS s\$attack\$, 'as_admin')");
	is($result, "ok: {\"s\": \"\\\\', $call --\"}", "remote off: $call stays inside the string");
}
is($coordinator->safe_psql('postgres',
		"SELECT verdict('SELECT current_setting(''standard_conforming_strings'') AS s', 'as_selector')"),
	'ok: {"s": "on"}', 'remote off: the session multidb opens reads standard-conforming strings');
$remote->safe_psql('postgres', 'ALTER ROLE admin RESET standard_conforming_strings; '
	  . 'ALTER ROLE selector RESET standard_conforming_strings');

# 1c. A pooler in between that drops the startup options (pgbouncer with ignore_startup_parameters): the
# pin never reaches the server, and a remote role's setting is what the session reads. multidb sees it in
# what the server reports and refuses the connection before anything is sent.
$remote->safe_psql('postgres', 'ALTER ROLE tableowner SET standard_conforming_strings = off');
my $remote_port = $remote->port;
my ($pooler_port, $pooler) = start_pgbouncer(
	databases => {
		as_reader => "host=127.0.0.1 port=$remote_port dbname=postgres user=selector password=secret",
		as_owner_off => "host=127.0.0.1 port=$remote_port dbname=postgres user=tableowner password=secret" },
	pool_mode => 'session');
for my $alias (qw(as_reader as_owner_off))
{
	$coordinator->safe_psql('postgres', "CREATE SERVER pooled_$alias FOREIGN DATA WRAPPER multidb "
		  . "OPTIONS (host '127.0.0.1', port '$pooler_port', dbname '$alias'); "
		  . "CREATE USER MAPPING FOR CURRENT_USER SERVER pooled_$alias OPTIONS (user 'pooled')");
}
my $pooled = '';
for (1 .. 100)
{
	$pooled = $coordinator->safe_psql('postgres', "SELECT verdict('SELECT count(*) AS n FROM victim', 'pooled_as_reader')");
	last if $pooled =~ /^ok/;
	usleep(50_000);
}
is($pooled, 'ok: {"n": 2000}', 'through the pooler, a session that reads standard-conforming strings works');
like($coordinator->safe_psql('postgres', "SELECT verdict('SELECT count(*) AS n FROM victim', 'pooled_as_owner_off')"),
	qr/^42501: connection "pooled_as_owner_off": the remote session does not read SQL as multidb's guard does: standard_conforming_strings is off/,
	'through the pooler, a session that does not is refused');
refused_before_running('pooled_as_owner_off', "SELECT '\\'', pg_terminate_backend($victim_pid) --' AS s",
	'through the pooler: pg_terminate_backend behind a backslash');
refused_before_running('pooled_as_owner_off', "SELECT '\\'', pg_cancel_backend($victim_pid) --' AS s",
	'through the pooler: pg_cancel_backend behind a backslash');
$pooler->kill_kill;
$remote->safe_psql('postgres', 'ALTER ROLE tableowner RESET standard_conforming_strings');

# 2. Functions that run SQL text given as an argument, even as a superuser multidb was told to accept.
refused_before_running('as_admin', "SELECT * FROM crosstab('SELECT pg_terminate_backend($victim_pid)::text, ''a'', ''b''') AS c(r text, a text)",
	'crosstab runs SQL text');
refused_before_running('as_admin', "SELECT * FROM connectby('victim; DELETE FROM victim; --', 'id', 'note', '1', 0) AS t(id int, p int, l int)",
	'connectby builds SQL from its arguments');
refused_before_running('as_admin', "SELECT * FROM xpath_table('id', 'doc', 'victim', '/a', 'true; DELETE FROM victim') AS t(id int, a text)",
	'xpath_table builds SQL from its arguments');
refused_before_running('as_admin', "SELECT query_to_xml('DELETE FROM victim RETURNING 1', true, false, '')",
	'query_to_xml runs SQL text');
refused_before_running('as_admin', "SELECT dblink_exec('dbname=postgres user=admin', 'DELETE FROM victim')",
	'dblink_exec reaches another session');

# 3. Writers outside the transaction: heap surgery, index maintenance, prewarm dumps, statistics resets.
# None is on multidb's name list: the remote's own pg_proc says they are VOLATILE.
for my $case (
	[ "SELECT heap_force_kill('victim'::regclass, ARRAY['(0,1)'::tid])", 'heap_force_kill' ],
	[ "SELECT heap_force_freeze('victim'::regclass, ARRAY['(0,2)'::tid])", 'heap_force_freeze' ],
	[ "SELECT brin_summarize_new_values('victim_brin'::regclass)", 'brin_summarize_new_values' ],
	[ "SELECT ('victim_brin'::regclass).brin_summarize_new_values", 'brin_summarize_new_values in attribute notation' ],
	[ "SELECT gin_clean_pending_list('victim_gin'::regclass)", 'gin_clean_pending_list' ],
	[ 'SELECT autoprewarm_dump_now()', 'autoprewarm_dump_now writes a file' ],
	[ 'SELECT count(*) FROM victim WHERE id > (SELECT pg_stat_statements_reset()::text::int)', 'pg_stat_statements_reset in a subquery' ])
{
	my $result = refused_before_running('as_admin', $case->[0], $case->[1]);
	like($result, qr/VOLATILE on this database/, "$case->[1]: the remote's catalog said so");
}

# 4. File readers, under their own names and others.
refused_before_running('as_admin', "SELECT pg_read_file('postgresql.conf')", 'pg_read_file');
refused_before_running('as_admin', "SELECT lo_import('/etc/hostname')", 'lo_import');
refused_before_running('as_admin', "SELECT get_raw_page('victim', 0)", 'get_raw_page reads pages past every privilege');
refused_before_running('as_admin', 'SELECT * FROM pg_file_settings', 'pg_file_settings');
refused_before_running('as_admin', 'SELECT * FROM pg_catalog.pg_hba_file_rules', 'pg_hba_file_rules');
refused_before_running('as_admin', "SELECT * FROM pg_ls_dir('.')", 'pg_ls_dir');

# 5. Replication.
refused_before_running('as_admin', "SELECT pg_create_physical_replication_slot('evil')", 'a physical slot');
refused_before_running('as_admin', "SELECT * FROM pg_create_logical_replication_slot('evil2', 'test_decoding')", 'a logical slot');
refused_before_running('as_admin', "SELECT ('evil3'::name).pg_create_physical_replication_slot", 'a slot in attribute notation');
refused_before_running('as_admin', "SELECT pg_replication_origin_create('evil')", 'a replication origin');
refused_before_running('as_admin', "SELECT pg_logical_emit_message(true, 'x', 'y')", 'a WAL message');

# 6. Privileged remote roles: refused by default, naming the role and what it holds, with the SQL of a
# reader role in the HINT.
for my $case (
	[ 'as_admin_plain', qr/remote role "admin" is superuser/ ],
	[ 'replicator', qr/remote role "replicator" is REPLICATION/ ],
	[ 'rlsbypass', qr/remote role "rlsbypass" is BYPASSRLS/ ],
	[ 'signaller', qr/remote role "signaller" is member of pg_signal_backend/ ],
	[ 'filereader', qr/remote role "filereader" is member of pg_read_server_files/ ],
	[ 'programmer', qr/remote role "programmer" is member of pg_execute_server_program/ ],
	[ 'chameleon', qr/remote role "admin" is superuser/ ])
{
	my $result = refused_before_running($case->[0], 'SELECT count(*) FROM victim', "privileged role via $case->[0]");
	like($result, $case->[1], "$case->[0]: the message names the role and what it holds");
}
my ($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"\\set VERBOSITY verbose\nSELECT * FROM multidb.fanout('SELECT 1', ARRAY['replicator'])");
like($stderr, qr/ERROR:  42501: connection "replicator": the remote role/, 'the refusal is 42501 naming the connection');
like($stderr, qr/HINT:  Connect as a role that can only read, for example on the remote: CREATE ROLE multidb_reader/,
	'the HINT gives the SQL of a reader role');
# the reader and the table owner are fine; a superuser allowed by a superuser's server option is warned of
is($coordinator->safe_psql('postgres', "SELECT verdict('SELECT count(*) AS n FROM victim', 'as_selector')"),
	'ok: {"n": 2000}', 'a SELECT-only role reads');
is($coordinator->safe_psql('postgres', "SELECT verdict('SELECT count(*) AS n FROM victim', 'as_owner')"),
	'ok: {"n": 2000}', 'the table owner reads');
($ret, $stdout, $stderr) = $coordinator->psql('postgres', "SELECT row_data FROM multidb.fanout('SELECT 1 AS one', ARRAY['as_admin'])");
is($stdout, '{"one": 1}', 'allow_privileged_role lets a superuser role through');
like($stderr, qr/WARNING:  connection "as_admin": the remote role "admin" is superuser; used because the server option allow_privileged_role is set/,
	'... with a WARNING at each use');
# only a superuser may set the option
$coordinator->safe_psql('postgres', q{
	CREATE ROLE alice LOGIN; GRANT USAGE ON FOREIGN DATA WRAPPER multidb TO alice;
	SET ROLE alice; CREATE SERVER alices FOREIGN DATA WRAPPER multidb OPTIONS (host '127.0.0.1'); RESET ROLE;});
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SET ROLE alice; ALTER SERVER alices OPTIONS (ADD allow_privileged_role 'true')");
like($stderr, qr/allow_privileged_role=true is superuser-only/, 'a non-superuser cannot allow privileged roles');

# The remote is as it was.
is(contrib_remote_state($remote), $before, 'rows, index pages, slots, origins and large objects unchanged');
ok($remote->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'victim'") == 1,
	'the victim session is alive');
ok(!-e $remote->data_dir . '/autoprewarm.blocks', 'no prewarm dump was written');
is(attacks_declared_on($remote, 'heap_force|brin_summarize|gin_clean|autoprewarm|pg_stat_statements_reset|pg_read_file|'
	  . 'lo_import|get_raw_page|file_settings|hba_file|pg_ls_dir|replication_slot|replication_origin|emit_message|'
	  . 'crosstab|connectby|xpath_table|query_to_xml|dblink_exec'), '0',
	'pg_stat_statements: none of the attacks was ever declared on the remote');
ok(attacks_declared_on($remote, 'count\\(\\*\\) AS n FROM victim') > 0, '... while the statements that were allowed were');

# Each call ends its remote transaction with ROLLBACK, on purpose.
is($remote->safe_psql('postgres', q{SELECT sum(calls) > 0 FROM pg_stat_statements WHERE query = 'ROLLBACK'}),
	't', 'the remote transaction ends with an explicit ROLLBACK');

# An upgrade from 0.3 brings the new lists.
$coordinator->safe_psql('postgres', 'CREATE DATABASE upgraded');
$coordinator->safe_psql('upgraded', "CREATE EXTENSION multidb VERSION '0.3'; ALTER EXTENSION multidb UPDATE");
is($coordinator->safe_psql('upgraded', q{
	SELECT extversion || ' '
	       || (SELECT count(*) FROM multidb.denied_relations()) || ' '
	       || (SELECT count(*) > 0 FROM multidb.allowed_volatile_functions()) FROM pg_extension WHERE extname = 'multidb'}),
	$coordinator->safe_psql('upgraded', q{SELECT default_version FROM pg_available_extensions WHERE name = 'multidb'})
	  . ' 10 true', 'ALTER EXTENSION multidb UPDATE from 0.3 gives the newest version with the new lists');
is($coordinator->safe_psql('upgraded', q{
	SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
	 WHERE attrelid = 'multidb.query_history'::regclass AND attnum > 0 AND NOT attisdropped}),
	$coordinator->safe_psql('postgres', q{
	SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
	 WHERE attrelid = 'multidb.query_history'::regclass AND attnum > 0 AND NOT attisdropped}),
	'... and the same query_history as a fresh install');

$victim->kill_kill;
done_testing();
