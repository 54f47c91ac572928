# A table-driven attack corpus: dangerous calls from six classes, each put in eleven positions of the
# tree and written in five spellings, run through multidb.check_sql (the name lists alone, as on a
# machine with no remote) and through fanout against a remote with contrib extensions, connected as a
# superuser that a superuser allowed: the worst case, where only the guard's walls stand. Every statement
# must be refused before it runs there; check_sql may accept only the calls that need the remote's own
# catalog to be recognised, listed below and reviewed. Then what a statement reaches without naming it: in
# databases where the remote's owner hid a call that ends the victim session behind a domain's CHECK, a cast,
# comparison operators and a default operator class, statements reaching them by every syntax that does so.
# The server never crashes or hangs, and afterwards the remote is unchanged.
use strict;
use warnings;

use MultidbAttack;
use MultidbCluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $remote = start_contrib_remote('corpus');
my $coordinator = start_attack_coordinator($remote);
my ($victim, $victim_pid) = start_victim_session($remote);
ok($victim_pid, 'the victim session is up');
my $before = contrib_remote_state($remote);
$remote->safe_psql('postgres', 'SELECT pg_stat_statements_reset()');

# [class, schema, function, arguments]
my @calls = (
	[ 'signals', 'pg_catalog', 'pg_terminate_backend', $victim_pid ],
	[ 'signals', 'pg_catalog', 'pg_cancel_backend', $victim_pid ],
	[ 'signals', 'pg_catalog', 'pg_reload_conf', '' ],
	[ 'signals', 'pg_catalog', 'pg_rotate_logfile', '' ],
	[ 'sql text', 'public', 'dblink_exec', q{'dbname=postgres', 'DELETE FROM victim'} ],
	[ 'sql text', 'public', 'crosstab', q{'SELECT pg_terminate_backend(1)::text, ''a'', ''b'''} ],
	[ 'sql text', 'pg_catalog', 'query_to_xml', q{'DELETE FROM victim RETURNING 1', true, false, ''} ],
	[ 'sql text', 'public', 'xpath_table', q{'id', 'doc', 'victim', '/a', 'true; DELETE FROM victim'} ],
	[ 'sql text', 'pg_catalog', 'ts_stat', q{'SELECT to_tsvector(pg_terminate_backend(1)::text)'} ],
	[ 'outside the transaction', 'public', 'heap_force_kill', q{'victim'::regclass, ARRAY['(0,1)'::tid]} ],
	[ 'outside the transaction', 'public', 'heap_force_freeze', q{'victim'::regclass, ARRAY['(0,2)'::tid]} ],
	[ 'outside the transaction', 'pg_catalog', 'brin_summarize_new_values', q{'victim_brin'::regclass} ],
	[ 'outside the transaction', 'pg_catalog', 'gin_clean_pending_list', q{'victim_gin'::regclass} ],
	[ 'outside the transaction', 'public', 'pg_stat_statements_reset', '' ],
	[ 'outside the transaction', 'public', 'autoprewarm_dump_now', '' ],
	[ 'outside the transaction', 'public', 'pg_prewarm', q{'victim'::regclass} ],
	[ 'files', 'pg_catalog', 'pg_read_file', q{'postgresql.conf'} ],
	[ 'files', 'pg_catalog', 'pg_read_binary_file', q{'postgresql.conf'} ],
	[ 'files', 'pg_catalog', 'lo_import', q{'/etc/hostname'} ],
	[ 'files', 'pg_catalog', 'pg_ls_dir', q{'.'} ],
	[ 'files', 'pg_catalog', 'pg_stat_file', q{'postgresql.conf'} ],
	[ 'files', 'public', 'get_raw_page', q{'victim', 0} ],
	[ 'replication', 'pg_catalog', 'pg_create_physical_replication_slot', q{'evil'} ],
	[ 'replication', 'pg_catalog', 'pg_replication_origin_create', q{'evil'} ],
	[ 'replication', 'pg_catalog', 'pg_logical_emit_message', q{true, 'x', 'y'} ],
	[ 'replication', 'pg_catalog', 'pg_switch_wal', '' ],
	[ 'settings, locks, sequences', 'pg_catalog', 'set_config', q{'default_transaction_read_only', 'off', false} ],
	[ 'settings, locks, sequences', 'pg_catalog', 'pg_advisory_lock', '1' ],
	[ 'settings, locks, sequences', 'pg_catalog', 'nextval', q{'counter'} ],
	[ 'settings, locks, sequences', 'pg_catalog', 'setval', q{'counter', 99} ],
);
# Only the remote's pg_proc knows these are VOLATILE: the name lists do not, so check_sql accepts them.
# Reviewed: heap surgery, index maintenance, prewarming and statistics resets of contrib modules.
my %accepted_without_a_remote = map { $_ => 1 }
  qw(heap_force_kill heap_force_freeze brin_summarize_new_values gin_clean_pending_list pg_stat_statements_reset
  autoprewarm_dump_now pg_prewarm get_raw_page);

my @positions = (
	[ 'select list', 'SELECT CALL' ],
	[ 'where', 'SELECT 1 FROM victim WHERE (CALL) IS NOT NULL LIMIT 1' ],
	[ 'from subquery', 'SELECT * FROM (SELECT CALL AS c) s' ],
	[ 'with query', 'WITH c AS (SELECT CALL AS c) SELECT count(*) FROM c' ],
	[ 'scalar subquery', 'SELECT (SELECT (CALL)::text)' ],
	[ 'case', 'SELECT CASE WHEN random() < 2 THEN (CALL)::text END' ],
	[ 'aggregate filter', 'SELECT count(*) FILTER (WHERE (CALL)::text IS NOT NULL) FROM victim' ],
	[ 'order by', 'SELECT id FROM victim ORDER BY (CALL)::text LIMIT 1' ],
	[ 'lateral', 'SELECT v.id FROM victim v, LATERAL (SELECT CALL AS c) l LIMIT 1' ],
	[ 'values', 'VALUES ((CALL)::text)' ],
	[ 'set operation', 'SELECT 1 UNION ALL SELECT count(*) FROM (SELECT CALL AS c) x' ],
);

# spelling => sub (schema, name, args) returning the call's text
my @spellings = (
	[ 'plain', sub { "$_[1]($_[2])" } ],
	[ 'upper case', sub { uc($_[1]) . "($_[2])" } ],
	[ 'schema-qualified', sub { "$_[0].$_[1]($_[2])" } ],
	[ 'quoted', sub { "\"$_[1]\"($_[2])" } ],
	[ 'comments and spaces', sub { "/* a */ $_[1] /* b */\n (\t$_[2] )" } ],
);

my @corpus;
for my $call (@calls)
{
	for my $position (@positions)
	{
		for my $spelling (@spellings)
		{
			my ($class, $schema, $name, $args) = @$call;
			(my $sql = $position->[1]) =~ s/CALL/$spelling->[1]->($schema, $name, $args)/e;
			push @corpus, { class => $class, name => $name, position => $position->[0], spelling => $spelling->[0], sql => $sql };
		}
	}
}
cmp_ok(scalar @corpus, '>=', 300, 'the corpus has at least 300 statements (' . scalar(@corpus) . ')');

# The corpus goes in as a table; one statement per row judged by check_sql and sent through fanout.
$coordinator->safe_psql('postgres', q{
	CREATE TABLE corpus (n int PRIMARY KEY, sql text NOT NULL);
	CREATE FUNCTION check_verdict(sql text) RETURNS text LANGUAGE plpgsql AS $$
	BEGIN
	  PERFORM multidb.check_sql(sql);
	  RETURN 'accepted';
	EXCEPTION WHEN OTHERS THEN
	  RETURN SQLSTATE;
	END $$;
});
my $copy = join '', map { "$_\t" . ($corpus[$_]{sql} =~ s/\\/\\\\/gr =~ s/\t/\\t/gr =~ s/\n/\\n/gr) . "\n" } 0 .. $#corpus;
$coordinator->safe_psql('postgres', "COPY corpus FROM STDIN;\n$copy\\.\n");
my $results = $coordinator->safe_psql('postgres', q{
	SET statement_timeout = '600s';
	SELECT n || E'\t' || check_verdict(sql) || E'\t' || replace(verdict(sql, 'as_admin'), E'\n', ' ') FROM corpus ORDER BY n});

my %count = (accepted => 0, refused => 0, 'not parsed' => 0);
my (@wrongly_accepted, @sent, @parse_errors);
for my $line (split /\n/, $results)
{
	next unless $line =~ /^\d+\t/;  # the SET's echo
	my ($n, $checked, $sent) = split /\t/, $line, 3;
	my $entry = $corpus[$n];
	my $kind = $checked eq 'accepted' ? 'accepted' : $checked eq '42501' ? 'refused' : $checked eq '42601' ? 'not parsed' : "other $checked";
	$count{$kind}++;
	push @parse_errors, "$entry->{sql} ($checked)" if $kind eq 'not parsed' || $kind =~ /^other/;
	push @wrongly_accepted, $entry->{sql} if $kind eq 'accepted' && !$accepted_without_a_remote{ $entry->{name} };
	push @sent, "$entry->{sql} => $sent" unless $sent =~ /^42501: /;
}
diag("check_sql over " . scalar(@corpus) . " statements: $count{accepted} accepted, $count{refused} refused, "
	  . "$count{'not parsed'} not parsed");
is(scalar(@parse_errors), 0, 'every statement of the corpus parses') or diag(join "\n", @parse_errors);
is(scalar(@wrongly_accepted), 0, 'check_sql accepts only the calls listed as needing the remote') or diag(join "\n", @wrongly_accepted);
is($count{accepted}, scalar(keys %accepted_without_a_remote) * @positions * @spellings,
	'... and all of those (the name lists cannot know them)');
is(scalar(@sent), 0, 'fanout refused every statement before it ran, as a superuser allowed by the server option')
  or diag(join "\n", @sent[0 .. ($#sent < 20 ? $#sent : 19)]);

# What a statement reaches without naming it: each database hides a call that would end the victim session.
my $kill = "pg_catalog.pg_terminate_backend($victim_pid)";
my %hidden = (
	hidden_domain => qq{
		CREATE DOMAIN dterm AS text CHECK ($kill IS NOT NULL);
		CREATE TABLE notes (id int, note text); INSERT INTO notes VALUES (1, 'a'), (2, 'b');},
	hidden_cast => qq{
		CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
		CREATE TABLE moods (id int, m mood); INSERT INTO moods VALUES (1, 'sad'), (2, 'happy');
		CREATE FUNCTION kill_text(mood) RETURNS text LANGUAGE sql VOLATILE AS 'SELECT ${kill}::text';
		CREATE CAST (mood AS text) WITH FUNCTION kill_text(mood) AS IMPLICIT;
		CREATE FUNCTION kill_json(mood) RETURNS json LANGUAGE sql VOLATILE AS 'SELECT to_json($kill)';
		CREATE CAST (mood AS json) WITH FUNCTION kill_json(mood);},
	hidden_operator => qq{
		CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
		CREATE TABLE moods (id int, m mood); INSERT INTO moods VALUES (1, 'sad'), (2, 'happy');
		CREATE FUNCTION kill_cmp(mood, mood) RETURNS boolean LANGUAGE sql VOLATILE AS 'SELECT $kill';
		CREATE OPERATOR = (LEFTARG = mood, RIGHTARG = mood, FUNCTION = kill_cmp);
		CREATE OPERATOR <> (LEFTARG = mood, RIGHTARG = mood, FUNCTION = kill_cmp);
		CREATE OPERATOR < (LEFTARG = mood, RIGHTARG = mood, FUNCTION = kill_cmp);
		CREATE OPERATOR > (LEFTARG = mood, RIGHTARG = mood, FUNCTION = kill_cmp);
		CREATE OPERATOR <= (LEFTARG = mood, RIGHTARG = mood, FUNCTION = kill_cmp);
		CREATE OPERATOR >= (LEFTARG = mood, RIGHTARG = mood, FUNCTION = kill_cmp);},
	hidden_opclass => qq{
		CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
		CREATE TABLE moods (id int, m mood); INSERT INTO moods VALUES (1, 'sad'), (2, 'happy'), (3, 'sad');
		CREATE FUNCTION kill_order(mood, mood) RETURNS integer LANGUAGE sql VOLATILE AS 'SELECT ${kill}::int';
		CREATE OPERATOR CLASS mood_ops DEFAULT FOR TYPE mood USING btree AS
		  OPERATOR 1 pg_catalog.< (anyenum, anyenum), OPERATOR 2 pg_catalog.<= (anyenum, anyenum),
		  OPERATOR 3 pg_catalog.= (anyenum, anyenum), OPERATOR 4 pg_catalog.>= (anyenum, anyenum),
		  OPERATOR 5 pg_catalog.> (anyenum, anyenum), FUNCTION 1 kill_order(mood, mood);},
);
my %reaching = (
	hidden_domain => [ q{SELECT 'x'::dterm}, q{SELECT CAST(note AS dterm) FROM notes}, q{SELECT dterm('x')},
		q{SELECT (n.note).dterm FROM notes n}, q{SELECT ARRAY['x']::dterm[]}, q{SELECT 'x'::text::dterm},
		q{SELECT id FROM notes WHERE note::dterm IS NOT NULL}, q{VALUES ('x'::dterm)},
		q{WITH d AS (SELECT 'x'::dterm AS v) SELECT * FROM d}, q{SELECT 1} ],
	hidden_cast => [ q{SELECT upper(m) FROM moods}, q{SELECT m::text FROM moods}, q{SELECT m || '' FROM moods},
		q{SELECT length(m) FROM moods}, q{SELECT to_json(m) FROM moods}, q{SELECT to_jsonb(m) FROM moods},
		q{SELECT json_agg(m) FROM moods}, q{SELECT id FROM moods WHERE m::text LIKE 'h%'},
		q{SELECT string_agg(m, ',') FROM moods}, q{SELECT 1} ],
	hidden_operator => [ q{SELECT id FROM moods WHERE m = 'happy'}, q{SELECT CASE m WHEN 'happy' THEN 1 END FROM moods},
		q{SELECT m BETWEEN 'sad' AND 'ok' FROM moods}, q{SELECT m NOT BETWEEN 'sad' AND 'ok' FROM moods},
		q{SELECT m IN ('happy', 'ok') FROM moods}, q{SELECT m NOT IN ('happy') FROM moods},
		q{SELECT NULLIF(m, 'sad') FROM moods}, q{SELECT m IS DISTINCT FROM 'sad' FROM moods},
		q{SELECT m = ANY (ARRAY['sad', 'ok']::mood[]) FROM moods}, q{SELECT (m, 1) < ('ok', 1) FROM moods},
		q{SELECT count(*) FROM moods a JOIN moods b ON a.m = b.m}, q{SELECT 1} ],
	hidden_opclass => [ q{SELECT m FROM moods ORDER BY m}, q{SELECT DISTINCT m FROM moods}, q{SELECT m, count(*) FROM moods GROUP BY m},
		q{SELECT min(m), max(m) FROM moods}, q{SELECT array_agg(m ORDER BY m) FROM moods},
		q{SELECT row_number() OVER (ORDER BY m) FROM moods}, q{SELECT m FROM moods UNION SELECT m FROM moods},
		q{SELECT greatest(m, 'ok') FROM moods}, q{SELECT count(DISTINCT m) FROM moods}, q{SELECT 1} ],
);
my @hidden_refusals;
my $hidden_count = 0;
for my $db (sort keys %hidden)
{
	$remote->safe_psql('postgres', "CREATE DATABASE $db");
	$remote->safe_psql($db, $hidden{$db} . 'GRANT SELECT ON ALL TABLES IN SCHEMA public TO selector;');
	add_connection($coordinator, $db, $remote, user => 'admin', dbname => $db, validate => 0);  # allowed below
	$coordinator->safe_psql('postgres', "ALTER SERVER $db OPTIONS (ADD allow_privileged_role 'true')");
	for my $sql (@{ $reaching{$db} })
	{
		$hidden_count++;
		my $result = $coordinator->safe_psql('postgres', "SELECT verdict(\$attack\$$sql\$attack\$, '$db')");
		push @hidden_refusals, "$db: $sql => $result" unless $result =~ /^42501: .*reach without naming them: .*kill_|^42501: .*reach without naming them: .*pg_terminate_backend/;
	}
}
diag("$hidden_count statements reaching a hidden call without naming it");
is(scalar(@hidden_refusals), 0, 'every statement reaching a hidden call was refused before it ran, naming the call')
  or diag(join "\n", @hidden_refusals);

# The server is alive and as it was.
is($remote->safe_psql('postgres', 'SELECT 1'), '1', 'the remote still answers');
is(contrib_remote_state($remote), $before, 'rows, index pages, slots, origins and large objects unchanged');
is($remote->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'victim'"), '1',
	'the victim session is alive');
is(attacks_declared_on($remote, join('|', map { $_->[2] } @calls)), '0',
	'pg_stat_statements: no statement of the corpus was declared on the remote');
is(attacks_declared_on($remote, 'moods|dterm|notes'), '0',
	'... nor any reaching a hidden call');
is($remote->safe_psql('postgres', "SELECT last_value || '/' || is_called FROM counter"), '1/false', 'the sequence never moved');

$victim->kill_kill;
done_testing();
