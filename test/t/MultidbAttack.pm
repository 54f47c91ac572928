# Helpers for the attack tests (015, 016): a remote with common contrib extensions and roles of every
# privilege, a victim session to aim at, the remote's state to compare before and after, and a verdict()
# function on the coordinator that says how a fan-out ended.
package MultidbAttack;

use strict;
use warnings;

use Exporter 'import';
use IPC::Run;
use MultidbCluster;
use PostgreSQL::Test::Utils;
use Time::HiRes qw(usleep);

our @EXPORT = qw(start_contrib_remote start_attack_coordinator start_victim_session contrib_remote_state
  attacks_declared_on);

# tablefunc, xml2, dblink, pg_surgery, pg_prewarm, pageinspect and pg_stat_statements installed; roles
# selector (SELECT only), tableowner (owns victim), admin (superuser), and one per other privilege multidb
# refuses; a table victim with a primary key, a BRIN index with unsummarized ranges and a GIN index with a
# pending list, so that index maintenance would change pages.
sub start_contrib_remote
{
	my ($name) = @_;
	my $remote = start_remote($name, conf => "shared_preload_libraries = 'pg_stat_statements'\n"
		  . "wal_level = logical\nmax_replication_slots = 4\npg_stat_statements.track_utility = on\n"
		  # vacuum would summarize BRIN ranges and clean the GIN pending list by itself
		  . "autovacuum = off\n");
	$remote->safe_psql('postgres', q{
		CREATE EXTENSION tablefunc; CREATE EXTENSION xml2; CREATE EXTENSION dblink; CREATE EXTENSION pg_surgery;
		CREATE EXTENSION pg_prewarm; CREATE EXTENSION pageinspect; CREATE EXTENSION pg_stat_statements;
		CREATE ROLE selector LOGIN PASSWORD 'secret';
		CREATE ROLE tableowner LOGIN PASSWORD 'secret';
		CREATE ROLE admin LOGIN SUPERUSER PASSWORD 'secret';
		CREATE ROLE replicator LOGIN REPLICATION PASSWORD 'secret';
		CREATE ROLE rlsbypass LOGIN BYPASSRLS PASSWORD 'secret';
		CREATE ROLE signaller LOGIN PASSWORD 'secret' IN ROLE pg_signal_backend;
		CREATE ROLE filereader LOGIN PASSWORD 'secret' IN ROLE pg_read_server_files;
		CREATE ROLE programmer LOGIN PASSWORD 'secret' IN ROLE pg_execute_server_program;
		CREATE ROLE chameleon LOGIN PASSWORD 'secret' IN ROLE admin;
		ALTER ROLE chameleon SET role = 'admin';
		CREATE TABLE victim (id int PRIMARY KEY, note text NOT NULL, doc text);
		INSERT INTO victim SELECT g, 'row ' || g, '<a>' || g || '</a>' FROM generate_series(1, 1000) g;
		CREATE INDEX victim_brin ON victim USING brin (id) WITH (pages_per_range = 1);
		CREATE INDEX victim_gin ON victim USING gin (to_tsvector('simple', note)) WITH (fastupdate = on);
		INSERT INTO victim SELECT g, 'row ' || g, '<a>' || g || '</a>' FROM generate_series(1001, 2000) g;
		ALTER TABLE victim OWNER TO tableowner;
		GRANT SELECT ON victim TO selector;
	});
	return $remote;
}

# A session on the remote that attacks aim at; returns its IPC::Run handle and its pid.
sub start_victim_session
{
	my ($remote) = @_;
	my ($out, $err) = ('', '');
	my $handle = IPC::Run::start(
		[ 'psql', '-XAtq', '-d', $remote->connstr('postgres') . ' application_name=victim', '-c', 'SELECT pg_sleep(600)' ],
		'>', \$out, '2>', \$err);
	my $pid;
	for (1 .. 200)
	{
		$pid = $remote->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE application_name = 'victim'");
		last if $pid;
		usleep(25_000);
	}
	return ($handle, $pid);
}

# The rows, every index page, slots, origins and large objects, as one line.
sub contrib_remote_state
{
	my ($remote) = @_;
	return $remote->safe_psql('postgres', q{
		SELECT (SELECT count(*) || ':' || md5(string_agg(id || note || coalesce(doc, ''), ',' ORDER BY id)) FROM victim),
		       (SELECT count(*) || ':' || md5(string_agg(md5(get_raw_page(c.relname, b)), ',' ORDER BY c.relname, b))
		          FROM pg_class c, generate_series(0, pg_relation_size(c.oid) / 8192 - 1) b
		         WHERE c.relname IN ('victim_brin', 'victim_gin', 'victim_pkey')),
		       (SELECT count(*) FROM pg_replication_slots), (SELECT count(*) FROM pg_replication_origin),
		       (SELECT count(*) FROM pg_largeobject_metadata)});
}

# A coordinator with connection as_admin to $remote's superuser, allowed by the server option (the worst
# case: only the guard's walls stand), and verdict(sql, connection): 'ok: ' and the rows' row_data joined
# by ';', or the SQLSTATE and message.
sub start_attack_coordinator
{
	my ($remote) = @_;
	my $coordinator = start_coordinator();
	add_connection($coordinator, 'as_admin', $remote, user => 'admin', validate => 0);  # allowed just below
	$coordinator->safe_psql('postgres', "ALTER SERVER as_admin OPTIONS (ADD allow_privileged_role 'true')");
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
	return $coordinator;
}

# How many statements pg_stat_statements saw declared on the remote, as the cursor multidb sends a statement in,
# whose text matches $pattern. (The set-up's own cursor, multidb_limits, calls set_config on purpose.)
sub attacks_declared_on
{
	my ($remote, $pattern) = @_;
	return $remote->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_statements WHERE query ~* '^DECLARE multidb_rows ' AND query ~* '$pattern'");
}

1;
