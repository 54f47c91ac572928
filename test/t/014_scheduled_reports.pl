# Saved reports run by the real pg_cron: a scheduled report lands its rows by itself, and a report whose
# server is down records a failed run.
use strict;
use warnings;

use MultidbCluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $up = start_remote('up');
my $down = start_remote('down');
my $coordinator = start_coordinator(conf => "shared_preload_libraries = 'pg_cron'\n"
	  . "cron.database_name = 'postgres'\ncron.use_background_workers = on\n");
$coordinator->safe_psql('postgres', 'CREATE EXTENSION pg_cron');
add_connection($coordinator, 'up', $up);
add_connection($coordinator, 'down', $down);
$coordinator->safe_psql('postgres', q{
	SELECT multidb.save_report_sql('items_up', 'SELECT count(*) AS n FROM items', ARRAY['up']);
	SELECT multidb.save_report_sql('items_down', 'SELECT count(*) AS n FROM items', ARRAY['down']);
	SELECT multidb.schedule_report('items_up', '* * * * *');
	SELECT multidb.schedule_report('items_down', '* * * * *');
});
$down->stop;
is($coordinator->safe_psql('postgres', "SELECT string_agg(jobname, ',' ORDER BY jobname) FROM cron.job"),
	'multidb report items_down,multidb report items_up', 'both reports are pg_cron jobs');

# pg_cron starts jobs at the minute: wait for the first runs (at most about 70 s).
$coordinator->poll_query_until('postgres',
	"SELECT count(DISTINCT report) = 2 FROM multidb.report_runs", 't')
  or die 'pg_cron never ran the reports';
is($coordinator->safe_psql('postgres',
	"SELECT status, source_db, row_data->>'n' FROM multidb.report_runs WHERE report = 'items_up' ORDER BY id LIMIT 1"),
	'ok|up|100', 'the scheduled report ran by itself and landed its rows');
like($coordinator->safe_psql('postgres',
	"SELECT status || ': ' || error FROM multidb.report_runs WHERE report = 'items_down' ORDER BY id LIMIT 1"),
	qr/^failed: connection "down": could not connect/, 'the report whose server is down recorded a failed run');

$coordinator->safe_psql('postgres', "SELECT multidb.unschedule_report('items_up'); SELECT multidb.unschedule_report('items_down')");
is($coordinator->safe_psql('postgres', 'SELECT count(*) FROM cron.job'), '0', 'unschedule_report removes the jobs');
done_testing();
