# BI clients find multidb's answers as typed relations (0.9), as a role "bi" with nothing but LOGIN, USAGE on
# the views' schema and SELECT on the views, over TCP with a password, every remote stopped: pgjdbc's
# getTables / getColumns / a prepared statement's metadata (test/bi/JdbcMetadata.java, compiled here), SQLAlchemy's
# inspector and psycopg 3's cursor.description, and Grafana's and Metabase's own catalog queries
# (test/bi/python_clients.py). The views are made by create_view_sql; a snapshot view reads its rows with the
# remotes stopped; a live view is described (never run) with them stopped.
use strict;
use warnings;

use IPC::Run;
use JSON::PP;
use MultidbCluster;
use MultidbLlm;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = $ENV{TESTDIR} // '.';
my $jar = '/usr/share/java/postgresql.jar';
-f $jar or BAIL_OUT("$jar is missing: install libpostgresql-jdbc-java (test/harness/lib.sh lists it)");

my @remotes = (start_remote('shop_north'), start_remote('shop_south'));
my %orders = (
	shop_north => q{(1, 10.50, '2026-01-02', 'Ada', '2026-01-02 10:00:00+00', '{1,2}'),
	                (2, 20.25, '2026-01-03', 'Grace', '2026-01-03 11:30:00+00', '{3}')},
	shop_south => q{(3, 5.00, '2026-01-04', 'Edsger', '2026-01-04 09:15:00+00', '{}')});
for my $remote (@remotes)
{
	$remote->safe_psql('postgres', "
		CREATE TABLE orders (id integer PRIMARY KEY, amount numeric(12,2), ordered date, customer varchar(40),
		                     placed timestamptz, tags integer[]);
		INSERT INTO orders VALUES $orders{$remote->name};
		GRANT SELECT ON orders TO reader;");
}

my $coordinator = start_coordinator(conf => "listen_addresses = '127.0.0.1'\n");
open my $hba, '>>', $coordinator->data_dir . '/pg_hba.conf' or die "pg_hba.conf: $!";
print $hba "host all all 127.0.0.1/32 scram-sha-256\n";
close $hba;
$coordinator->reload;
add_connection($coordinator, 'north', $remotes[0]);
add_connection($coordinator, 'south', $remotes[1]);

# alice makes the views; bi, the BI tool's role, gets USAGE on their schema and SELECT on them, nothing else.
$coordinator->safe_psql('postgres', q{
	CREATE ROLE alice LOGIN;
	GRANT CREATE ON DATABASE postgres TO alice;
	GRANT USAGE ON FOREIGN SERVER north, south TO alice;
	CREATE USER MAPPING FOR alice SERVER north OPTIONS (user 'reader', password 'secret');
	CREATE USER MAPPING FOR alice SERVER south OPTIONS (user 'reader', password 'secret');
	CREATE ROLE bi LOGIN PASSWORD 'bi-secret';});
# A question's view is planned once by the (scripted) LLM when it is made; nothing after that asks the LLM.
my $asked = 'Which customers ordered how much?';
my $llm = MultidbLlm->new(rules => [ { match => $asked, reply => encode_json({ explanation => 'Both shops.',
				queries => [ map { { database => $_, sql => 'SELECT customer, amount FROM orders' } } qw(north south) ] }) } ],
	default => 'no scripted reply');
$coordinator->safe_psql('postgres', "
	CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm
	  OPTIONS (provider 'openai', url 'http://127.0.0.1:" . $llm->port . "/v1', model 'stub-model', timeout '2s');
	CREATE USER MAPPING FOR PUBLIC SERVER llm OPTIONS (api_key 'sk-test');
	GRANT USAGE ON FOREIGN SERVER llm TO alice;");
my $question = 'What did each shop sell?';
my $sql = 'SELECT id, amount, ordered, customer, placed, tags FROM orders ORDER BY id';
$coordinator->safe_psql('postgres', qq{
	SET ROLE alice;
	CREATE SCHEMA dash;
	SELECT multidb.create_view_sql('dash.orders', '$sql', '{north,south}', description => '$question');
	SELECT multidb.create_view_sql('dash.orders_live', '$sql', '{north,south}', mode => 'live');
	SELECT multidb.create_view('dash.orders_question', '$asked', connections => '{north,south}');
	GRANT USAGE ON SCHEMA dash TO bi;
	GRANT SELECT ON dash.orders, dash.orders_live, dash.orders_question TO bi;});
my $llm_calls = scalar $llm->requests;
is($llm_calls, 1, 'the question\'s view was planned by one LLM call');
my $snapshot_table = $coordinator->safe_psql('postgres', q{
	SELECT c.relname FROM pg_depend d JOIN pg_rewrite r ON d.objid = r.oid JOIN pg_class c ON d.refobjid = c.oid
	 WHERE r.ev_class = 'dash.orders'::regclass AND c.relnamespace = 'multidb_snapshots'::regnamespace LIMIT 1});
like($snapshot_table, qr/^snapshot_\d+$/, 'the snapshot view reads a table in multidb_snapshots');
is($coordinator->safe_psql('postgres', 'SELECT count(*) FROM dash.orders', extra_params => [ '-U', 'bi' ]), '3',
	'the snapshot holds both shops\' orders');

# Every remote stopped from here on: what follows reads the coordinator alone.
$_->stop for @remotes;

my $tmp = PostgreSQL::Test::Utils::tempdir;
my ($out, $err);
ok(IPC::Run::run([ 'javac', '-d', $tmp, '-cp', $jar, "$root/test/bi/JdbcMetadata.java" ], '>', \$out, '2>', \$err),
	'the JDBC program compiles against Debian\'s pgjdbc') or diag($err);

# jdbc($relation, $sql): the program's lines as the BI role.
sub jdbc
{
	my ($relation, @sql) = @_;
	my ($stdout, $stderr) = ('', '');
	my $url = 'jdbc:postgresql://127.0.0.1:' . $coordinator->port . '/postgres';
	IPC::Run::run([ 'java', '-cp', "$jar:$tmp", 'JdbcMetadata', $url, 'bi', 'bi-secret', 'dash', $relation, @sql ],
		'>', \$stdout, '2>', \$stderr)
	  or diag("JdbcMetadata failed: $stderr");
	return [ split /\n/, $stdout ];
}

sub lines_of
{
	my ($kind, $lines) = @_;
	return join("\n", map { s/^\Q$kind\E\t//r } grep { /^\Q$kind\E\t/ } @$lines);
}

# 1. pgjdbc on the snapshot view: getTables, getColumns, the prepared statement's metadata and the rows.
my $snapshot = jdbc('orders', 'SELECT source_db, id, amount, ordered, customer, tags FROM dash.orders ORDER BY id');
is(lines_of('table', $snapshot),
	"dash\torders\tVIEW\t$question\ndash\torders_live\tVIEW\t$sql\ndash\torders_question\tVIEW\t$asked",
	'pgjdbc getTables({TABLE, VIEW}) lists the views as VIEW, REMARKS the question (the SQL for the live one)');
is(lines_of('column', $snapshot), join("\n",
		"source_db\ttext\t12\t2147483647\t0",
		"_as_of\ttimestamptz\t93\t35\t6",
		"id\tint4\t4\t10\t0",
		"amount\tnumeric\t2\t12\t2",
		"ordered\tdate\t91\t13\t0",
		"customer\tvarchar\t12\t40\t0",
		"placed\ttimestamptz\t93\t35\t6",
		"tags\t_int4\t2003\t10\t0"),
	'pgjdbc getColumns: numeric 12,2, date, varchar 40, timestamptz, _int4 (TYPE_NAME, DATA_TYPE, COLUMN_SIZE, DECIMAL_DIGITS)');
is(lines_of('prepared', $snapshot), join("\n",
		"source_db\ttext\t12\t2147483647\t0",
		"_as_of\ttimestamptz\t93\t35\t6",
		"id\tint4\t4\t10\t0",
		"amount\tnumeric\t2\t12\t2",
		"ordered\tdate\t91\t13\t0",
		"customer\tvarchar\t12\t40\t0",
		"placed\ttimestamptz\t93\t35\t6",
		"tags\t_int4\t2003\t10\t0"),
	'a prepared SELECT * over the snapshot view: the same types, with every remote stopped');
is(lines_of('row', $snapshot), join("\n",
		"north\t1\t10.50\t2026-01-02\tAda\t{1,2}",
		"north\t2\t20.25\t2026-01-03\tGrace\t{3}",
		"south\t3\t5.00\t2026-01-04\tEdsger\t{}"),
	'... and its rows read through pgjdbc with every remote stopped');

# 2. The live view: described without running it, so the stopped remotes are never asked.
my $live = jdbc('orders_live');
is(lines_of('prepared', $live), join("\n",
		"source_db\ttext\t12\t2147483647\t0",
		"id\tint4\t4\t10\t0",
		"amount\tnumeric\t2\t12\t2",
		"ordered\tdate\t91\t13\t0",
		"customer\tvarchar\t12\t40\t0",
		"placed\ttimestamptz\t93\t35\t6",
		"tags\t_int4\t2003\t10\t0"),
	'a prepared SELECT * over the live view: its types, with every remote stopped and no fan-out');

# The question's view: typed from the plan's statements, described and read with no LLM call.
my $by_question = jdbc('orders_question', 'SELECT source_db, customer, amount FROM dash.orders_question ORDER BY amount');
is(lines_of('column', $by_question), join("\n",
		"source_db\ttext\t12\t2147483647\t0",
		"_as_of\ttimestamptz\t93\t35\t6",
		"customer\tvarchar\t12\t40\t0",
		"amount\tnumeric\t2\t12\t2"),
	'pgjdbc getColumns on the question\'s view: varchar 40, numeric 12,2');
is(lines_of('prepared', $by_question), lines_of('column', $by_question), '... and so does its prepared statement');
is(lines_of('row', $by_question), "south\tEdsger\t5.00\nnorth\tAda\t10.50\nnorth\tGrace\t20.25",
	'... and its rows read, every remote stopped');

# 3. SQLAlchemy, psycopg 3, Grafana's and Metabase's queries.
my ($py_out, $py_err) = ('', '');
IPC::Run::run([ '/usr/bin/python3', "$root/test/bi/python_clients.py", '127.0.0.1', $coordinator->port, 'postgres',
		'bi', 'bi-secret', 'dash', 'orders' ], '>', \$py_out, '2>', \$py_err)
  or diag("python_clients.py failed: $py_err");
my $py = [ split /\n/, $py_out ];
is(lines_of('sqlalchemy_view', $py), "orders\norders_live\norders_question", 'SQLAlchemy get_view_names lists the views');
is(lines_of('sqlalchemy_table', $py), '', '... and get_table_names none (they are views)');
is(lines_of('sqlalchemy_column', $py), join("\n",
		"source_db\tTEXT\t\\N",
		"_as_of\tTIMESTAMP WITH TIME ZONE\t\\N",
		"id\tINTEGER\t\\N",
		"amount\tNUMERIC(12, 2)\t\\N",
		"ordered\tDATE\t\\N",
		"customer\tVARCHAR(40)\t\\N",
		"placed\tTIMESTAMP WITH TIME ZONE\t\\N",
		"tags\tINTEGER[]\t\\N"),
	'SQLAlchemy get_columns: NUMERIC(12, 2), DATE, VARCHAR(40), TIMESTAMP WITH TIME ZONE, INTEGER[]');
is(lines_of('sqlalchemy_comment', $py), $question, '... and get_table_comment the question');
is(lines_of('psycopg_column', $py), join("\n",
		"source_db\t25\t\\N\t\\N\t\\N\t\\N",
		"_as_of\t1184\t8\t\\N\t\\N\t\\N",
		"id\t23\t4\t\\N\t\\N\t\\N",
		"amount\t1700\t\\N\t\\N\t12\t2",
		"ordered\t1082\t4\t\\N\t\\N\t\\N",
		"customer\t1043\t\\N\t40\t\\N\t\\N",
		"placed\t1184\t8\t\\N\t\\N\t\\N",
		"tags\t1007\t\\N\t\\N\t\\N\t\\N"),
	'psycopg 3 cursor.description: type OIDs 1700, 1082, 1043, 1184, 1007; internal and display size, precision, scale');
# multidb's own tables, granted to PUBLIC and showing each role its own rows only, are listed too (qualified,
# being outside the search_path); the snapshot's table, which bi may not read, is not.
my $grafana = lines_of('grafana_table', $py);
is(join("\n", grep { !/^multidb\./ } split /\n/, $grafana), "orders\norders_live\norders_question",
	'Grafana\'s table list (information_schema.tables) shows the views, first as the search_path\'s');
unlike($grafana, qr/multidb_snapshots|\Q$snapshot_table\E/, '... and not the snapshot\'s table, which the role cannot read');
is(lines_of('grafana_column', $py), join("\n",
		"source_db\ttext", "_as_of\ttimestamp with time zone", "id\tinteger", "amount\tnumeric", "ordered\tdate",
		"customer\tcharacter varying", "placed\ttimestamp with time zone", "tags\tARRAY"),
	'Grafana\'s column list (information_schema.columns) types them');
my $metabase = lines_of('metabase_table', $py);
unlike($metabase, qr/multidb_snapshots|\Q$snapshot_table\E/, 'Metabase\'s table list leaves out the snapshot\'s table');
is(join("\n", grep { /^dash\t/ } split /\n/, $metabase),
	"dash\torders\tVIEW\t$question\ndash\torders_live\tVIEW\t$sql\ndash\torders_question\tVIEW\t$asked",
	'Metabase\'s table list (pg_class, pg_description, SELECT privilege) shows the views with their descriptions');
is(lines_of('metabase_column', $py), join("\n",
		"source_db\ttext\t0", "_as_of\ttimestamptz\t1", "id\tint4\t2", "amount\tnumeric\t3", "ordered\tdate\t4",
		"customer\tvarchar\t5", "placed\ttimestamptz\t6", "tags\t_int4\t7"),
	'Metabase\'s field list types them');

is(scalar $llm->requests, $llm_calls, 'no client made multidb call the LLM');

# No remote was needed: they are still stopped, and the coordinator never tried one for the BI role.
my $log = slurp_file($coordinator->logfile);
unlike($log, qr/could not connect|connection to server .* failed/, 'no connection to a remote was tried');

done_testing();
