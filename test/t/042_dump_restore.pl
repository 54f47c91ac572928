# What Postgres people do to a coordinator with views of multidb's answers (0.9): pg_dump -Fc of it and
# pg_restore onto a new coordinator server (pg_cron in both, a report scheduled) with every remote stopped (both
# exit 0, no remote contacted, the views, their comments, column types and snapshot rows back, the schedule back,
# a BI role reading a report owner's view over report_runs again, the next report run numbered after the restored
# ones); ALTER EXTENSION multidb UPDATE from 0.8 while a user's views over fanout_rows and report_runs exist;
# reading with SET search_path = ''.
use strict;
use warnings;

use IPC::Run;
use MultidbCluster;
use PostgreSQL::Test::Utils;
use Test::More;

my @remotes = (start_remote('plant_a'), start_remote('plant_b'));
my $cron = "shared_preload_libraries = 'pg_cron'\ncron.database_name = 'postgres'\ncron.use_background_workers = on\n";
my $coordinator = start_coordinator(conf => $cron);
$coordinator->safe_psql('postgres', 'CREATE EXTENSION pg_cron');
# The server the dump is restored on: a new one, as when a coordinator moves (pg_cron lives in one database of
# a server, so a dump holding it restores onto a server whose cron.database_name is that database).
my $target = PostgreSQL::Test::Cluster->new('new_coordinator');
$target->init;
$target->append_conf('postgresql.conf', $cron);
$target->start;

my $fanout = q{multidb.fanout_rows('SELECT id, price, name::varchar(40) AS name FROM items WHERE id <= 2 ORDER BY id', '{a,b}')
	  AS t(source_db text, id integer, price numeric(10,2), name varchar(40))};

# set_up($database): connections a and b; alice's report with a run, a view over report_runs and views over
# fanout_rows (a snapshot: a table and a view over it; a live one), all granted to bi.
sub set_up
{
	my ($database) = @_;
	add_connection($coordinator, 'a', $remotes[0], in => $database);
	add_connection($coordinator, 'b', $remotes[1], in => $database);
	$coordinator->safe_psql($database, "
		GRANT CREATE ON DATABASE $database TO alice;
		GRANT USAGE ON FOREIGN SERVER a, b TO alice;
		CREATE USER MAPPING FOR alice SERVER a OPTIONS (user 'reader', password 'secret');
		CREATE USER MAPPING FOR alice SERVER b OPTIONS (user 'reader', password 'secret');
		SET ROLE alice;
		SELECT multidb.save_report_sql('cheap', 'SELECT id FROM items WHERE id <= 2', '{a,b}');
		SELECT multidb.run_report('cheap');
		CREATE SCHEMA dash;
		CREATE VIEW dash.report_rows AS
		  SELECT report, run_id, source_db, (row_data->>'id')::int AS id FROM multidb.report_runs;
		CREATE TABLE dash.items_snapshot AS SELECT now() AS _as_of, t.* FROM $fanout;
		CREATE VIEW dash.items AS SELECT source_db, _as_of, id, price, name FROM dash.items_snapshot;
		COMMENT ON VIEW dash.items IS 'Which items does each plant have?';
		CREATE VIEW dash.items_live WITH (security_invoker = true) AS SELECT * FROM $fanout;
		GRANT USAGE ON SCHEMA dash TO bi;
		GRANT SELECT ON dash.report_rows, dash.items, dash.items_live TO bi;");
	return;
}

sub as_bi
{
	my ($database, $sql) = @_;
	return $coordinator->safe_psql($database, $sql, extra_params => [ '-U', 'bi' ]);
}

$_->safe_psql('postgres', 'CREATE ROLE alice LOGIN; CREATE ROLE bi LOGIN') for $coordinator, $target;

# 1. ALTER EXTENSION multidb UPDATE from 0.8 with a user's views over fanout_rows and report_runs.
$coordinator->safe_psql('postgres', "CREATE DATABASE old; ");
$coordinator->safe_psql('old', "CREATE EXTENSION multidb VERSION '0.8'");
set_up('old');
my $items = q{SELECT string_agg(source_db || ':' || id || ':' || price || ':' || name, ',' ORDER BY source_db, id) FROM };
my $two_plants = 'a:1:1.50:item 1,a:2:3.00:item 2,b:1:1.50:item 1,b:2:3.00:item 2';
my ($ret, $stdout, $stderr) = $coordinator->psql('old', 'ALTER EXTENSION multidb UPDATE');
is($ret, 0, 'ALTER EXTENSION multidb UPDATE from 0.8 succeeds while views over fanout_rows and report_runs exist')
  or diag($stderr);
is($coordinator->safe_psql('old', q{SELECT extversion FROM pg_extension WHERE extname = 'multidb'}),
	$coordinator->safe_psql('old', q{SELECT default_version FROM pg_available_extensions WHERE name = 'multidb'}),
	'... to the control file\'s version');
is($coordinator->safe_psql('old', "$items dash.items_live", extra_params => [ '-U', 'alice' ]), $two_plants,
	'the live view over fanout_rows still reads');
is(as_bi('old', q{SELECT string_agg(source_db || ':' || id, ',' ORDER BY source_db, id) FROM dash.report_rows}),
	'a:1,a:2,b:1,b:2', 'the view over report_runs reads, now also for the BI role alice granted it to');
my $plants_sql = 'SELECT id, price, name::varchar(40) AS name FROM items WHERE id <= 2 ORDER BY id';
is($coordinator->safe_psql('old', "SELECT multidb.create_view_sql('dash.after_update', '$plants_sql', '{a,b}')",
		extra_params => [ '-U', 'alice' ]), 'dash.after_update', 'then create_view_sql works');
is($coordinator->safe_psql('old', "$items dash.after_update", extra_params => [ '-U', 'alice' ]), $two_plants,
	'... and its view reads');

# 2. pg_dump -Fc of the coordinator's database and pg_restore onto the new server, every remote stopped.
set_up('postgres');
$coordinator->safe_psql('postgres', "SET ROLE alice;
	SELECT multidb.create_view_sql('dash.plants', '$plants_sql', '{a,b}', description => 'Items of each plant');
	SELECT multidb.create_view_sql('dash.plants_live', '$plants_sql', '{a,b}', mode => 'live');
	GRANT SELECT ON dash.plants, dash.plants_live TO bi;");
# Scheduled by alice, who is not a superuser (pg_cron's settings are hers to read only through multidb), given
# USAGE on schema cron as pg_cron asks.
$coordinator->safe_psql('postgres', 'GRANT USAGE ON SCHEMA cron TO alice');
$coordinator->safe_psql('postgres', q{SELECT multidb.schedule_report('cheap', '0 3 * * *');
	SELECT multidb.schedule_view('dash.plants', '0 4 * * *')}, extra_params => [ '-U', 'alice' ]);
my $run_before = $coordinator->safe_psql('postgres', q{SELECT max(run_id) FROM multidb.report_runs});
$_->stop for @remotes;
my $tmp = PostgreSQL::Test::Utils::tempdir;
my $dump = "$tmp/coordinator.dump";
my ($out, $err) = ('', '');
ok(IPC::Run::run([ 'pg_dump', '-Fc', '-f', $dump, '-d', $coordinator->connstr('postgres') ], '>', \$out, '2>', \$err),
	'pg_dump -Fc exits 0 with every remote stopped') or diag($err);
($out, $err) = ('', '');
ok(IPC::Run::run([ 'pg_restore', '-d', $target->connstr('postgres'), $dump ], '>', \$out, '2>', \$err),
	'pg_restore onto a new server exits 0 with every remote stopped') or diag($err);
is($err, '', '... and says nothing');
unlike(slurp_file($coordinator->logfile) . slurp_file($target->logfile), qr/could not connect|connection to server .* failed/,
	'no remote was tried');

sub as_bi_restored
{
	my ($sql) = @_;
	return $target->safe_psql('postgres', $sql, extra_params => [ '-U', 'bi' ]);
}
is($target->safe_psql('postgres', q{
	SELECT string_agg(c.relname || ' ' || c.relkind::text || ' ' || coalesce(obj_description(c.oid, 'pg_class'), '-'), E'\n' ORDER BY c.relname)
	  FROM pg_class c WHERE c.relnamespace = 'dash'::regnamespace AND c.relkind = 'v'}),
	"items v Which items does each plant have?\nitems_live v -\nplants v Items of each plant\nplants_live v $plants_sql\n"
	  . "report_rows v -",
	'the views and their comments are back');
is($target->safe_psql('postgres', q{SELECT string_agg(view || ' ' || mode || ' ' || status || ' ' || coalesce(row_count::text, '-'), ',' ORDER BY view)
                                     FROM multidb.views}, extra_params => [ '-U', 'alice' ]),
	'dash.plants snapshot ok 4,dash.plants_live live never -', 'multidb.views lists create_view_sql\'s views');
is(as_bi_restored("$items dash.plants"), $two_plants, 'the BI role reads the snapshot view\'s rows');
is($target->safe_psql('postgres', q{
	SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
	  FROM pg_attribute WHERE attrelid = 'dash.plants'::regclass AND attnum > 0}),
	'source_db text, _as_of timestamp with time zone, id integer, price numeric(10,2), name character varying(40)',
	'... with the remote types');
is($target->safe_psql('postgres', q{
	SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
	  FROM pg_attribute WHERE attrelid = 'dash.items_live'::regclass AND attnum > 0}),
	'source_db text, id integer, price numeric(10,2), name character varying(40)',
	'... with their column types and typmods');
is(as_bi_restored("$items dash.items"), $two_plants, 'the BI role reads the snapshot\'s rows on the new server');
is(as_bi_restored(q{SELECT string_agg(source_db || ':' || id, ',' ORDER BY source_db, id) FROM dash.report_rows}),
	'a:1,a:2,b:1,b:2', '... and alice\'s report runs through her view (the owner\'s policies made again)');
is(as_bi_restored(q{SELECT count(*) FROM multidb.report_runs}), '0', '... and still none of them directly');
is($target->safe_psql('postgres', q{SELECT string_agg(schedule || ' ' || username, ',' ORDER BY schedule) FROM cron.job}),
	'0 3 * * * alice,0 4 * * * alice', 'the report\'s and the view\'s schedules are back');

($out, $err) = ('', '');
IPC::Run::run([ 'pg_restore', '-l', $dump ], '>', \$out, '2>', \$err);
is(join(',', sort map { /SEQUENCE SET multidb (\S+)/ ? $1 : () } split /\n/, $out),
	'chat_messages_id_seq,query_history_id_seq,report_run_ids,report_runs_id_seq,saved_views_id_seq,snapshot_table_ids',
	'the dump sets the sequences of the run ids and of the dumped tables\' identity columns');
# The next run of a restored report is numbered after the restored runs.
$_->start for @remotes;
is($target->safe_psql('postgres', q{SELECT multidb.run_report('cheap') > } . $run_before,
		extra_params => [ '-U', 'alice' ]), 't', 'the next run on the new server is numbered after the restored ones');

# 3. SET search_path = '': reading the views and running a report still work.
is($target->safe_psql('postgres', "SET search_path = ''; $items dash.items_live", extra_params => [ '-U', 'alice' ]),
	$two_plants, "with search_path = '' the live view reads");
is($target->safe_psql('postgres', "SET search_path = ''; SELECT multidb.refresh_view('dash.plants'); $items dash.plants",
		extra_params => [ '-U', 'alice' ]), "4\n$two_plants", '... refresh_view refreshes and the snapshot view reads');
is($target->safe_psql('postgres', "SET search_path = ''; $items dash.plants_live", extra_params => [ '-U', 'alice' ]),
	$two_plants, '... and so does the live view of create_view_sql');
is($target->safe_psql('postgres', "SET search_path = ''; SELECT multidb.run_report('cheap') IS NOT NULL",
		extra_params => [ '-U', 'alice' ]), 't', '... and a report runs');

done_testing();
