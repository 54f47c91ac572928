# multidb views: answers as typed relations (snapshot and live), refreshed without blocking readers, failures and
# drift recorded with the old snapshot kept, rebind, schedules and drops, read by a role with only SELECT, with
# an empty search_path, and of a question planned by the scripted LLM.
use strict;
use warnings;

use JSON::PP;
use MultidbCluster;
use MultidbLlm;
use PostgreSQL::Test::Utils;
use Test::More;

my @remotes = (start_remote('r1'), start_remote('r2'));
for my $i (0, 1)
{
	my $shop = $i + 1;
	$remotes[$i]->safe_psql('postgres', qq{
		CREATE TABLE sales (id int, amount numeric(12,2), label varchar(40), day date, at timestamptz, tags int[]);
		INSERT INTO sales SELECT g, g * 10.25, 'shop $shop sale ' || g, date '2026-01-01' + g,
		                         timestamptz '2026-01-01 10:00+00' + g * interval '1 hour', ARRAY[g, $shop]
		  FROM generate_series(1, 3 - $i) g;
		CREATE TABLE stock (id int, qty int);
		INSERT INTO stock VALUES (1, 10), (2, 20);
		GRANT SELECT ON sales, stock TO reader;
	});
}
my ($r1, $r2) = @remotes;
my $coordinator = start_coordinator(conf => "shared_preload_libraries = 'pg_cron'\n"
	  . "cron.database_name = 'postgres'\ncron.use_background_workers = on\n");
$coordinator->safe_psql('postgres', 'CREATE EXTENSION pg_cron');
add_connection($coordinator, 'r1', $r1);
add_connection($coordinator, 'r2', $r2);

my $sales_sql = 'SELECT id, amount, label, day, at, tags FROM sales';
my $typed = 'source_db text, id int, amount numeric(12,2), label varchar(40), day date, at timestamptz, tags int[]';

sub query { return $coordinator->safe_psql('postgres', $_[0]); }

sub columns_of
{
	my ($view) = @_;
	return query("SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
	                FROM pg_attribute WHERE attrelid = '$view'::regclass AND attnum > 0 AND NOT attisdropped");
}

# --- a snapshot view of SQL over two remotes
is(query("SELECT multidb.create_view_sql('public.sales_snap', '$sales_sql', ARRAY['r1', 'r2'],
                                         description => 'Sales of both shops')"),
	'sales_snap', 'create_view_sql returns the view');
is(columns_of('public.sales_snap'),
	'source_db text, _as_of timestamp with time zone, id integer, amount numeric(12,2), label character varying(40), '
	  . 'day date, at timestamp with time zone, tags integer[]',
	'the snapshot view has the remote column types with their typmods');
is(query("SELECT count(*) FROM (SELECT source_db, id, amount, label, day, at, tags FROM public.sales_snap
                                EXCEPT ALL SELECT * FROM multidb.fanout_rows('$sales_sql', ARRAY['r1', 'r2']) AS t($typed)) a"),
	'0', 'every snapshot row is a row fanout_rows returns');
is(query("SELECT count(*), count(DISTINCT _as_of) FROM public.sales_snap"), '5|1', 'all of them, of one refresh');
is(query("SELECT obj_description('public.sales_snap'::regclass, 'pg_class')"), 'Sales of both shops',
	'the comment is the description');
is(query("SELECT view, mode, status, row_count, last_refresh IS NOT NULL, sql, connections,
                 jsonb_array_length(columns), columns->2->>'type', on_drift, schedule IS NULL, owner = current_user
            FROM multidb.views"),
	"public.sales_snap|snapshot|ok|5|t|$sales_sql|{r1,r2}|6|character varying(40)|fail|t|t",
	'multidb.views lists it with its first refresh');

# --- refresh while a reader with lock_timeout = 100ms reads: it never waits, and sees the old rows until the
# refresh commits
my $reader = $coordinator->background_psql('postgres', on_error_stop => 0);
my $refresher = $coordinator->background_psql('postgres', on_error_stop => 0);
$reader->query_safe("SET lock_timeout = '100ms'");
$reader->query_safe('BEGIN');
is($reader->query_safe('SELECT count(*) FROM public.sales_snap'), '5', 'the reader reads in an open transaction');
$r1->safe_psql('postgres', "INSERT INTO sales VALUES (4, 1.5, 'late', '2026-02-01', now(), '{}')");
$refresher->query_safe("SET lock_timeout = '100ms'");
$refresher->query_safe('BEGIN');
is($refresher->query_safe("SELECT multidb.refresh_view('public.sales_snap')"), '6',
	'refresh_view returns the new row count while a reader holds the view');
for (1 .. 3)
{
	is($reader->query("SELECT count(*) FROM public.sales_snap"), '5', "the reader is not blocked and sees the old snapshot ($_)");
	is($reader->{stderr}, '', 'and had no lock timeout');
}
$refresher->query_safe('COMMIT');
is($reader->query_safe('SELECT count(*) FROM public.sales_snap'), '6', 'the reader sees the new snapshot after the commit');
$reader->query_safe('COMMIT');

# --- a BI role with only USAGE on the schema and SELECT on the view
query(q{CREATE ROLE bi LOGIN; GRANT SELECT ON public.sales_snap TO bi;
        GRANT USAGE ON FOREIGN SERVER r1, r2 TO bi});
is(query("SET ROLE bi; SELECT count(*), sum(amount) FROM public.sales_snap"), '6|93.75',
	'a role with only SELECT on the snapshot view reads its rows');
my ($ret, $out, $err) = $coordinator->psql('postgres', "SET ROLE bi; SELECT count(*) FROM multidb_snapshots."
	  . query("SELECT snapshot_table FROM multidb.saved_views WHERE view_name = 'sales_snap'"));
like($err, qr/permission denied for table snapshot_/, 'but not the snapshot table behind it');
($ret, $out, $err) = $coordinator->psql('postgres', "SET ROLE bi; SELECT multidb.refresh_view('public.sales_snap')");
like($err, qr/ERROR:  view public.sales_snap is not a multidb view of yours\nHINT:  SELECT view FROM multidb.views/,
	'nor refresh it');
is(query('SET ROLE bi; SELECT count(*) FROM multidb.views'), '0', "nor see it in multidb.views");

# --- a view made by a role that is not a superuser: its snapshot table is its own, made for it by
# _create_snapshot_table, which refuses a role the session's role could not become
query(q{CREATE ROLE alice LOGIN; CREATE ROLE mallory LOGIN; GRANT CREATE ON SCHEMA public TO alice;
        GRANT USAGE ON FOREIGN SERVER r1, r2 TO alice;
        CREATE USER MAPPING FOR alice SERVER r1 OPTIONS (user 'reader', password 'secret');
        CREATE USER MAPPING FOR alice SERVER r2 OPTIONS (user 'reader', password 'secret')});
is(query(q{SET ROLE alice; SELECT multidb.create_view_sql('alice_stock', 'SELECT id, qty FROM stock', ARRAY['r1', 'r2']);
           GRANT SELECT ON public.alice_stock TO bi;
           SELECT view, status, row_count FROM multidb.views}), "alice_stock\npublic.alice_stock|ok|4",
	'a role that is not a superuser makes a snapshot view and sees only its own in multidb.views');
is(query(q{SELECT tableowner FROM pg_tables WHERE schemaname = 'multidb_snapshots'
              AND tablename = (SELECT snapshot_table FROM multidb.saved_views WHERE view_name = 'alice_stock')}),
	'alice', 'its snapshot table is its own');
is(query(q{SET ROLE bi; SELECT count(*) FROM public.alice_stock}), '4', 'and a role it granted SELECT reads it');
($ret, $out, $err) = $coordinator->psql('postgres', q{SELECT multidb._create_snapshot_table('alice')},
	extra_params => [ '-U', 'mallory' ]);
like($err, qr/ERROR:  role "mallory" may not make a snapshot table for role "alice"/,
	'a role cannot have a snapshot table made for a role it cannot become');
($ret, $out, $err) = $coordinator->psql('postgres', q{CREATE TABLE multidb_snapshots.mine (x int)},
	extra_params => [ '-U', 'mallory' ]);
like($err, qr/ERROR:  permission denied for schema multidb_snapshots/, 'nor create tables in multidb_snapshots itself');

# --- a report's runs read through a view its owner made: the reader sees the owner's rows, never others' directly
query(q{SET ROLE alice;
        SELECT multidb.save_report_sql('alice_counts', 'SELECT count(*) AS n FROM stock', ARRAY['r1']);
        SELECT multidb.run_report('alice_counts');
        CREATE VIEW public.alice_runs AS SELECT report, status, row_data FROM multidb.report_runs;
        GRANT SELECT ON public.alice_runs TO bi});
is(query(q{SET ROLE bi; SELECT count(*), max(row_data->>'n') FROM public.alice_runs}), '1|2',
	'a role granted a view over report_runs reads the view owner\'s runs');
is(query(q{SET ROLE bi; SELECT count(*) FROM multidb.report_runs}) . ',' . query(q{SET ROLE bi; SELECT count(*) FROM multidb.reports}),
	'0,0', 'but not the tables themselves');

# --- ALTER EXTENSION UPDATE from 0.8 with reports of a role: the role gets its policies
query(q{CREATE DATABASE upgraded});
$coordinator->safe_psql('upgraded', q{CREATE EXTENSION multidb VERSION '0.8';
	INSERT INTO multidb.reports (name, connections, plan, owner) VALUES ('old', '{r1}', '{"sql": "SELECT 1"}', 'alice');
	ALTER EXTENSION multidb UPDATE});
is($coordinator->safe_psql('upgraded', q{SELECT extversion = (SELECT default_version FROM pg_available_extensions WHERE name = 'multidb'),
                                          (SELECT string_agg(polname, ',' ORDER BY polname) FROM pg_policy
                                          WHERE polname LIKE 'reports_of_%') FROM pg_extension WHERE extname = 'multidb'}),
	't|reports_of_alice,reports_of_alice', 'the update from 0.8 (to the newest version) gives the owners of reports their policies');

# --- a remote down: the refresh fails, is recorded, the old snapshot stays
$r2->stop;
($ret, $out, $err) = $coordinator->psql('postgres', "SELECT multidb.refresh_view('public.sales_snap')");
is($out, '', 'refresh_view returns NULL when a remote is down');
like($err, qr/WARNING:  refresh of view public.sales_snap failed: /, 'a WARNING says so');
is(query("SELECT status, error IS NOT NULL, row_count, last_attempt > last_refresh FROM multidb.views
            WHERE view = 'public.sales_snap'"), 'failed|t|6|t',
	'the failure is recorded');
is(query('SELECT count(*) FROM public.sales_snap'), '6', 'the old snapshot is still served');
($ret, $out, $err) = $coordinator->psql('postgres', "SELECT * FROM multidb.check_view('public.sales_snap')");
like($err, qr/ERROR: .*r2/, 'check_view names the remote it cannot describe');
$r2->start;
is(query("SELECT multidb.refresh_view('public.sales_snap'); SELECT status FROM multidb.views WHERE view = 'public.sales_snap'"), "6\nok",
	'back up: the refresh succeeds');

# --- a live view: every read fans out, with the reader's own user mappings
query("SELECT multidb.create_view_sql('sales_live', '$sales_sql', ARRAY['r1', 'r2'], mode => 'live')");
is(columns_of('public.sales_live'),
	'source_db text, id integer, amount numeric(12,2), label character varying(40), day date, '
	  . 'at timestamp with time zone, tags integer[]', 'a live view has the same types, without _as_of');
$r2->safe_psql('postgres', "INSERT INTO sales VALUES (9, 9, 'fresh', '2026-03-01', now(), '{9}')");
is(query("SELECT count(*) FROM public.sales_live WHERE label = 'fresh'"), '1', 'a live view reads fresh rows');
is(query("SELECT obj_description('public.sales_live'::regclass, 'pg_class')"), $sales_sql,
	'without a description its comment is the SQL');
query('GRANT SELECT ON public.sales_live TO bi');
($ret, $out, $err) = $coordinator->psql('postgres', 'SET ROLE bi; SELECT count(*) FROM public.sales_live');
like($err, qr/ERROR:  connection "r1" has no user mapping for role "bi"\n(DETAIL: .*\n)?HINT:  /,
	'a live view reads as its reader: without a user mapping, 42704 with a HINT');
($ret, $out, $err) = $coordinator->psql('postgres', "SELECT multidb.refresh_view('public.sales_live')");
like($err, qr/ERROR:  view public.sales_live is live/, 'a live view has nothing to refresh');

# --- drift: added, retyped, removed; on_drift evolve; rebind
query(q{SELECT multidb.create_view_sql('drifty', 'SELECT * FROM stock', ARRAY['r1', 'r2']);
        SELECT multidb.create_view_sql('evolving', 'SELECT * FROM stock', ARRAY['r1', 'r2'], on_drift => 'evolve');
        GRANT SELECT ON public.drifty TO bi; COMMENT ON VIEW public.drifty IS 'stock levels'});
is(query("SELECT count(*) FROM multidb.check_view('public.drifty')"), '0', 'no drift yet');
$_->safe_psql('postgres', 'ALTER TABLE stock ADD COLUMN note text') for @remotes;
($ret, $out, $err) = $coordinator->psql('postgres', "SELECT multidb.refresh_view('public.drifty')");
is($out, '', 'a column added on the remotes fails the refresh');
like($err, qr/WARNING:  refresh of view public.drifty failed: the answer's columns drifted: note added on r1: expected nothing, found text/,
	'the WARNING names the column, the database and the types');
is(query("SELECT status, drift->0->>'change', drift->0->>'column_name' FROM multidb.views WHERE view = 'public.drifty'"),
	'drift|added|note', 'the drift is recorded');
is(query("SELECT string_agg(concat_ws(',', change, column_name, database, expected, found), ';' ORDER BY database)
            FROM multidb.check_view('public.drifty')"), 'added,note,r1,text;added,note,r2,text', 'check_view shows it');
is(query('SELECT count(*) FROM public.drifty'), '4', 'the last snapshot stays');
is(query("SELECT multidb.refresh_view('public.evolving')"), '4', 'on_drift => evolve takes an added column');
is(columns_of('public.evolving'), 'source_db text, _as_of timestamp with time zone, id integer, qty integer, note text',
	'appended to the view');
is(query("SELECT multidb.rebind_view('public.drifty'); SELECT status FROM multidb.views WHERE view = 'public.drifty'"),
	"\nok", 'rebind_view takes the new columns and refreshes');
is(columns_of('public.drifty'), 'source_db text, _as_of timestamp with time zone, id integer, qty integer, note text',
	'the rebound view has them');
is(query("SELECT has_table_privilege('bi', 'public.drifty', 'SELECT'), obj_description('public.drifty'::regclass, 'pg_class')"),
	't|stock levels', 'its grants and comment are kept');
$_->safe_psql('postgres', 'ALTER TABLE stock ALTER qty TYPE bigint; ALTER TABLE stock DROP COLUMN note') for @remotes;
($ret, $out, $err) = $coordinator->psql('postgres', "SELECT multidb.refresh_view('public.evolving')");
like($err, qr/drifted: .*qty retyped on r1: expected integer, found bigint/, 'a retyped column fails even evolve');
is(query("SELECT string_agg(concat_ws(',', change, column_name, expected, found), ';' ORDER BY change)
            FROM multidb.check_view('public.drifty') WHERE database = 'r2'"),
	'removed,note,text;retyped,qty,integer,bigint', 'check_view shows a removed and a retyped column');
# One database drifting alone, so that the databases no longer agree with each other: still the drift, named.
query(q{SELECT multidb.create_view_sql('lopsided', 'SELECT id, qty FROM stock', ARRAY['r1', 'r2'])});
$remotes[0]->safe_psql('postgres', 'ALTER TABLE stock ALTER qty TYPE text');
($ret, $out, $err) = $coordinator->psql('postgres', "SELECT multidb.refresh_view('public.lopsided')");
like($err, qr/drifted: qty retyped on r1: expected bigint, found text/,
	'a column retyped on one database alone, beyond a common type, is drift naming that database');
is(query("SELECT status FROM multidb.views WHERE view = 'public.lopsided'"), 'drift', 'recorded as drift');
is(query("SELECT string_agg(concat_ws(',', change, column_name, database, expected, found), ';')
            FROM multidb.check_view('public.lopsided')"), 'retyped,qty,r1,bigint,text',
	'check_view lists it instead of raising the merge error');
$remotes[0]->safe_psql('postgres', 'ALTER TABLE stock ALTER qty TYPE bigint USING qty::bigint');
query(q{SELECT multidb.drop_view('public.lopsided')});
query(q{CREATE VIEW public.over_drifty AS SELECT id FROM public.drifty});
($ret, $out, $err) = $coordinator->psql('postgres', "SELECT multidb.rebind_view('public.drifty')");
like($err, qr/ERROR:  view public.drifty cannot be rebound: other views depend on it: over_drifty\nHINT:  Drop them/,
	'rebind_view refuses a view other views depend on');
query('DROP VIEW public.over_drifty');

# --- an answer column named as the view's own
($ret, $out, $err) = $coordinator->psql('postgres',
	"SELECT multidb.create_view_sql('bad', 'SELECT 1 AS source_db', ARRAY['r1'])");
like($err, qr/ERROR:  view public.bad: the answer has a column named source_db.*\nHINT:  Alias it/,
	'a column named source_db is refused with a HINT');

# --- schedules and drops
my $job = query("SELECT multidb.schedule_view('public.sales_snap', '0 3 1 1 *')");
is(query("SELECT jobname, command FROM cron.job WHERE jobid = $job"),
	'multidb view public.sales_snap|SELECT multidb._refresh_scheduled_view('
	  . query("SELECT id FROM multidb.saved_views WHERE view_name = 'sales_snap'") . ')',
	'schedule_view makes a pg_cron job');
is(query("SELECT schedule, job FROM multidb.views WHERE view = 'public.sales_snap'"), "0 3 1 1 *|$job",
	'multidb.views shows it');
my $storage = query("SELECT snapshot_table FROM multidb.saved_views WHERE view_name = 'sales_snap'");
query("SELECT multidb.drop_view('public.sales_snap')");
is(query("SELECT count(*) FROM cron.job WHERE jobid = $job") . ',' . query("SELECT to_regclass('multidb_snapshots.$storage') IS NULL")
	  . ',' . query("SELECT to_regclass('public.sales_snap') IS NULL") . ',' . query("SELECT count(*) FROM multidb.views WHERE view = 'public.sales_snap'"),
	'0,t,t,0', 'drop_view removes the job, the snapshot table, the view and its row');

query("SELECT multidb.create_view_sql('scheduled', 'SELECT id FROM stock', ARRAY['r1'], schedule => '0 3 1 1 *')");
my $id = query("SELECT id FROM multidb.saved_views WHERE view_name = 'scheduled'");
is(query("SELECT count(*) FROM cron.job WHERE jobname = 'multidb view public.scheduled'"), '1', 'create_view_sql schedules');
is(query("SELECT multidb._refresh_scheduled_view($id)"), '2', 'its job refreshes the view');
$storage = query("SELECT snapshot_table FROM multidb.saved_views WHERE id = $id");
query('DROP VIEW public.scheduled');
($ret, $out, $err) = $coordinator->psql('postgres', "SELECT multidb._refresh_scheduled_view($id)");
like($err, qr/WARNING:  multidb view public.scheduled no longer exists: its job multidb view public.scheduled is unscheduled/,
	'after a plain DROP VIEW the next run says so');
is(query("SELECT count(*) FROM cron.job") . ',' . query("SELECT to_regclass('multidb_snapshots.$storage') IS NULL")
	  . ',' . query("SELECT count(*) FROM multidb.saved_views WHERE id = $id"), '0,t,0', 'and leaves no job, table or row');

query(q{SELECT multidb.create_view_sql('again', 'SELECT id FROM stock', ARRAY['r1']); DROP VIEW public.again});
($ret, $out, $err) = $coordinator->psql('postgres', "SELECT multidb.create_view_sql('again', 'SELECT id, qty FROM stock', ARRAY['r1'])");
is($out . ' ' . query("SELECT count(*) FROM multidb.views WHERE view = 'public.again'"), 'again 1',
	'a name a plain DROP VIEW freed can be used again');
like($err, qr/NOTICE:  view public.again was dropped without multidb.drop_view\(\)/, 'with a NOTICE');

# --- an empty search_path
is(query(q{SET search_path = '';
           SELECT multidb.create_view_sql('public.bare', 'SELECT id, qty FROM stock', ARRAY['r1', 'r2']);
           SELECT multidb.refresh_view('public.bare');
           SELECT count(*) FROM public.bare;
           SELECT multidb.create_view_sql('public.bare_live', 'SELECT id FROM stock', ARRAY['r1'], mode => 'live');
           SELECT count(*) FROM public.bare_live}), "public.bare\n4\n4\npublic.bare_live\n2",
	'create, refresh and read with search_path = \'\'');
($ret, $out, $err) = $coordinator->psql('postgres',
	"SET search_path = ''; SELECT multidb.create_view_sql('unqualified', 'SELECT 1 AS one', ARRAY['r1'])");
like($err, qr/ERROR:  no schema to create view "unqualified" in\nHINT:  Qualify the name/, 'an unqualified name needs a schema');

# --- a question's view, planned once by the scripted LLM
my $plan = encode_json({ explanation => 'Both shops.',
	queries => [ { database => 'r1', sql => 'SELECT id, amount, tags FROM sales' },
		{ database => 'r2', sql => 'SELECT id, amount, tags FROM sales' } ] });
my $llm = MultidbLlm->new(rules => [ { match => 'Which sales are there', reply => $plan } ], default => 'no scripted reply');
query("CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm
         OPTIONS (provider 'openai', url 'http://127.0.0.1:" . $llm->port . "/v1', model 'stub-model', timeout '2s');
       CREATE USER MAPPING FOR PUBLIC SERVER llm OPTIONS (api_key 'sk-test');");
query(q{SELECT multidb.create_view('q_snap', 'Which sales are there?', connections => ARRAY['r1', 'r2']);
        SELECT multidb.create_view('q_live', 'Which sales are there?', connections => ARRAY['r1', 'r2'], mode => 'live')});
is(columns_of('public.q_snap'), 'source_db text, _as_of timestamp with time zone, id integer, amount numeric(12,2), tags integer[]',
	'a question view has the plan\'s column types');
is(columns_of('public.q_live'), 'source_db text, id integer, amount numeric(12,2), tags integer[]', 'live too');
is(query("SELECT tags FROM public.q_live WHERE source_db = 'r1' AND id = 2") . ' ' . query("SELECT tags[2] FROM public.q_snap WHERE source_db = 'r2' AND id = 1"),
	'{2,1} 2', 'an array column of a question view is an array');
is(query("SELECT count(*), sum(amount) FROM public.q_snap"), '7|102.75', 'the snapshot holds the plan\'s rows');
my $asked = scalar($llm->requests);
is(query("SELECT count(*) FROM public.q_live") . ',' . query("SELECT multidb.refresh_view('public.q_snap')"), '7,7',
	'the live view and a refresh run the frozen plan');
is(scalar($llm->requests), $asked, 'without asking the LLM again');
is(query("SELECT obj_description('public.q_snap'::regclass, 'pg_class'), question, plan->'queries'->0->>'database'
            FROM multidb.views WHERE view = 'public.q_snap'"),
	'Which sales are there?|Which sales are there?|r1', 'its comment is the question; multidb.views has the plan');
($ret, $out, $err) = $coordinator->psql('postgres', "SELECT multidb.rebind_view('public.sales_live', replan => true)");
like($err, qr/ERROR:  view public.sales_live is a view of SQL: there is no question to plan again/,
	'replan needs a question');
# The plan cache would answer the same question on the same schemas: clear_cache() makes the LLM plan it anew.
$llm->set_script(rules => [ { match => 'Which sales are there', reply => encode_json({ explanation => 'With labels.',
	queries => [ { database => 'r1', sql => 'SELECT id, amount, label FROM sales' } ] }) } ]);
query("SELECT multidb.clear_cache(); SELECT multidb.rebind_view('public.q_snap', replan => true)");
is(scalar($llm->requests), $asked + 1, 'rebind_view with replan asks the LLM again');
is(columns_of('public.q_snap') . ' / ' . query('SELECT count(*) FROM public.q_snap'),
	'source_db text, _as_of timestamp with time zone, id integer, amount numeric(12,2), label character varying(40) / 4',
	'and the view takes the new plan\'s columns and rows');

# --- pg_dump and pg_restore with every remote stopped: the views, their snapshots and multidb.views come back,
# and nothing needs a remote
$_->stop for @remotes;
my $dump = $PostgreSQL::Test::Utils::tmp_check . '/views.dump';
my $globals = $PostgreSQL::Test::Utils::tmp_check . '/globals.sql';
$coordinator->command_ok([ 'pg_dumpall', '--globals-only', '-f', $globals, '-d', $coordinator->connstr('postgres') ],
	'pg_dumpall --globals-only');
$coordinator->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $coordinator->connstr('postgres') ],
	'pg_dump of the coordinator exits 0 with every remote down');
my $restored = PostgreSQL::Test::Cluster->new('restored');
$restored->init;
$restored->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_cron'\ncron.database_name = 'postgres'\n"
	  . "cron.use_background_workers = on\n");
$restored->start;
$restored->psql('postgres', undef, extra_params => [ '-f', $globals ]);
$restored->command_ok([ 'pg_restore', '--exit-on-error', '-d', $restored->connstr('postgres'), $dump ],
	'pg_restore exits 0 with every remote down');
my $before = query(q{SELECT string_agg(view || ' ' || status || ' ' || coalesce(row_count::text, '-'), ', ' ORDER BY view)
                       FROM multidb.views});
is($restored->safe_psql('postgres', q{SELECT string_agg(view || ' ' || status || ' ' || coalesce(row_count::text, '-'), ', ' ORDER BY view)
                                        FROM multidb.views}), $before, 'multidb.views is back');
is($restored->safe_psql('postgres', q{SET ROLE bi; SELECT count(*), sum(qty) FROM public.alice_stock}), '4|60',
	'a snapshot view reads its rows after the restore, for a role with only SELECT');
is($restored->safe_psql('postgres', q{SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
                                        FROM pg_attribute WHERE attrelid = 'public.q_snap'::regclass AND attnum > 0}),
	columns_of('public.q_snap'), 'with its types');
is($restored->safe_psql('postgres', q{WITH made AS (SELECT multidb._create_snapshot_table(current_user) AS name)
                                     SELECT count(*) FROM multidb.saved_views v, made WHERE v.snapshot_table = made.name}),
	'0', 'a snapshot table made after the restore takes a name none of the restored ones has');

done_testing();
