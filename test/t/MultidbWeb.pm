# The web UI's fixture, shared by the browser test (test/t/048_web_ui.pl), `make screenshots` and the UI bench:
# two remote clusters holding databases "production" and "backup" of one shop (the backup lacks some orders and
# has one changed; their schemas differ by an index and two tables), a coordinator with pg_cron and multidb, the
# connections and a group, two roles who may sign in, the scripted LLM answering from test/browser/*.llm.json, and
# multidb-web serving the UI on a loopback port. run_browser runs test/browser/run.py (or another script of
# test/browser) against it, one browser at a time on the machine.
package MultidbWeb;

use strict;
use warnings;

use Exporter 'import';
use Fcntl qw(:flock O_CREAT O_RDONLY);
use File::Temp qw(tempdir);
use IPC::Run;
use JSON::PP;
use MultidbCluster;
use MultidbGateway;
use MultidbLlm;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Time::HiRes qw(time usleep);

our @EXPORT = qw(start_web_fixture run_browser);

# Every chromium run on the machine takes this lock: one browser at a time (they share 2 cores).
our $BROWSER_LOCK = '/tmp/multidb-browser.lock';

my $root = $ENV{TESTDIR} // '.';

# The shop in both databases; the backup then loses orders 191..200, has order 7 changed, lacks an index and a
# table (promotions) and gains a table (restore_log). regions has a label column and numeric columns (a chart: one
# series per database), wide is 10,000 rows x 20 columns (paging); orders.created_at spreads over the last 150
# days whenever the test runs (the Builder's "in the last 90 days", by month).
my $shop_sql = q{
	CREATE TABLE regions (region text PRIMARY KEY, sales numeric(12,2) NOT NULL, returns numeric(12,2) NOT NULL);
	INSERT INTO regions VALUES ('north', 1200.50, 80.25), ('south', 950.00, 40.00), ('east', 1430.75, 95.50),
	                           ('west', 780.20, 30.00);
	CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, region text NOT NULL REFERENCES regions);
	INSERT INTO customers SELECT g, 'customer ' || g, (ARRAY['north', 'south', 'east', 'west'])[1 + g % 4]
	  FROM generate_series(1, 40) g;
	CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers,
	                     amount numeric(10,2) NOT NULL, ordered_on date NOT NULL, created_at date NOT NULL);
	INSERT INTO orders SELECT g, 1 + g % 40, round(((g * 7.3) % 500 + 10)::numeric, 2), date '2026-01-01' + g,
	                          current_date - g % 150
	  FROM generate_series(1, 200) g;
	CREATE TABLE wide AS SELECT g AS id,
	  } . join(",\n\t  ", map { $_ % 2 ? "'v$_-' || g AS c$_" : "g * $_ AS c$_" } map { sprintf '%02d', $_ } 1 .. 19) . q{
	  FROM generate_series(1, 10000) g;
	ALTER TABLE wide ADD PRIMARY KEY (id);
};

# The scripted replies of every test/browser/*.llm.json, in file-name order: {"rules": [rule, ...]} where a rule is
# llm_stub.py's (match, reply, delay, ...) and a reply may be a JSON object (a plan), sent as its JSON text.
sub scripted_rules
{
	my @rules;
	for my $file (sort glob("$root/test/browser/*.llm.json"))
	{
		my $script = decode_json(slurp_file($file));
		for my $rule (@{ $script->{rules} // [] })
		{
			my %copy = %$rule;
			$copy{reply} = encode_json($copy{reply}) if ref $copy{reply};
			push @rules, \%copy;
		}
	}
	return @rules;
}

# start_web_fixture(gateway_flags => [...]): everything above; returns a hash with the nodes (production,
# backup, coordinator), llm, gateway (the IPC::Run handle), url, fixture_file (the JSON run.py reads) and
# gateway_err (a reference to its stderr).
sub start_web_fixture
{
	my (%opts) = @_;
	my %web;
	for my $database ('production', 'backup')
	{
		my $node = start_remote("${database}_server");
		$node->safe_psql('postgres', "CREATE DATABASE $database");
		$node->safe_psql($database, $shop_sql);
		$node->safe_psql($database, $database eq 'production'
			? 'CREATE INDEX orders_ordered_on_idx ON orders (ordered_on);
			   CREATE TABLE promotions (id int PRIMARY KEY, code text NOT NULL)'
			: 'DELETE FROM orders WHERE id > 190; UPDATE orders SET amount = amount + 100 WHERE id = 7;
			   UPDATE regions SET sales = sales * 0.8, returns = returns * 1.5;
			   CREATE TABLE restore_log (id serial PRIMARY KEY, restored_at timestamptz NOT NULL DEFAULT now())');
		$node->safe_psql($database, 'GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader');
		$web{$database} = $node;
	}

	# pg_cron, so that the Reports tab can schedule (it costs a preload and one extension).
	my $coordinator = start_coordinator(conf => "shared_preload_libraries = 'pg_cron'\n"
		  . "cron.database_name = 'postgres'\ncron.use_background_workers = on\n");
	$coordinator->safe_psql('postgres', 'CREATE EXTENSION pg_cron');
	my $superuser = $coordinator->safe_psql('postgres', 'SELECT current_user');
	add_connection($coordinator, $_, $web{$_}, dbname => $_) for 'production', 'backup';
	$coordinator->safe_psql('postgres', q{
		SELECT multidb.create_group('shops', ARRAY['production', 'backup']);
		CREATE ROLE multidb_web NOLOGIN;
		CREATE ROLE authenticator LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS PASSWORD 'authpw';
		CREATE ROLE alice LOGIN PASSWORD 'alice-pw' IN ROLE multidb_web;
		CREATE ROLE bob LOGIN PASSWORD 'bob-pw' IN ROLE multidb_web;
		GRANT alice, bob TO authenticator;
		GRANT EXECUTE ON FUNCTION multidb.open_web_sign_in, multidb.web_sign_in_role, multidb.end_web_sign_in TO authenticator;
		GRANT USAGE ON FOREIGN SERVER production, backup TO alice, bob;
		CREATE USER MAPPING FOR alice SERVER production OPTIONS (user 'reader', password 'secret');
		CREATE USER MAPPING FOR alice SERVER backup OPTIONS (user 'reader', password 'secret');
		CREATE USER MAPPING FOR bob SERVER production OPTIONS (user 'reader', password 'secret');
		CREATE USER MAPPING FOR bob SERVER backup OPTIONS (user 'reader', password 'secret');
		GRANT USAGE ON SCHEMA cron TO alice, bob;
		ALTER ROLE alice SET multidb.max_repairs = 0;
		ALTER ROLE bob SET multidb.max_repairs = 0;
	});
	open my $hba, '>', $coordinator->data_dir . '/pg_hba.conf' or die "pg_hba.conf: $!";
	print $hba "local all $superuser trust\nlocal all all scram-sha-256\n";
	close $hba;
	$coordinator->reload;

	my $llm = MultidbLlm->new(rules => [ scripted_rules() ], default => 'no scripted reply');
	$coordinator->safe_psql('postgres', "
		CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm
		  OPTIONS (provider 'openai', url 'http://127.0.0.1:" . $llm->port . "/v1', model 'stub-model', timeout '10s');
		CREATE USER MAPPING FOR PUBLIC SERVER llm OPTIONS (api_key 'sk-test');
		GRANT USAGE ON FOREIGN SERVER llm TO alice, bob;");

	my $launched = launch_gateway(flags => [ '--database', authenticator_conninfo($coordinator), '--auth-delay', '0',
			@{ $opts{gateway_flags} // [] } ]);
	my ($gateway, $url, $port) = @$launched{qw(handle url port)};
	die "multidb-web did not start: ${ $launched->{err} }" unless $launched->{up};

	my $dir = tempdir(CLEANUP => 1);
	my %fixture = (
		base_url => $url,
		roles => [ { name => 'alice', password => 'alice-pw' }, { name => 'bob', password => 'bob-pw' } ],
		connections => [ 'production', 'backup' ],
		groups => { shops => [ 'production', 'backup' ] },
		# For scenarios that check what happened underneath (a cancelled ask on the coordinator, say): libpq
		# conninfo strings of the coordinator (its superuser, over its socket) and of each remote database.
		coordinator => 'host=' . $coordinator->host . ' port=' . $coordinator->port . " dbname=postgres user=$superuser",
		databases => { map { $_ => 'host=' . $web{$_}->host . ' port=' . $web{$_}->port . " dbname=$_ user=$superuser" }
			  'production', 'backup' },
	);
	open my $f, '>', "$dir/fixture.json" or die $!;
	print $f JSON::PP->new->canonical->pretty->encode(\%fixture);
	close $f;
	return { %web, coordinator => $coordinator, llm => $llm, gateway => $gateway, url => $url,
		fixture_file => "$dir/fixture.json", gateway_err => $launched->{err} };
}

# run_browser($web, $script, @args): runs test/browser/$script (run.py, screenshots.py, bench_ui.py) with
# --base-url and --fixture, holding the browser lock (flock(1)'s lock: the same file, the same kind of lock);
# returns (exit status, stdout, stderr, seconds waited for the lock).
sub run_browser
{
	my ($web, $script, @args) = @_;
	# Opened read-only (flock needs no more), so a lock file another user made serves as well; made writable for all.
	sysopen(my $lock, $BROWSER_LOCK, O_RDONLY | O_CREAT, 0666) or die "$BROWSER_LOCK: $!";
	chmod 0666, $BROWSER_LOCK if -o $BROWSER_LOCK;
	my $asked = time;
	flock($lock, LOCK_EX) or die "flock $BROWSER_LOCK: $!";
	my $waited = time - $asked;
	my ($out, $err) = ('', '');
	IPC::Run::run([ '/usr/bin/python3', "$root/test/browser/$script",
			'--base-url', $web->{url}, '--fixture', $web->{fixture_file}, @args ], '>', \$out, '2>', \$err);
	my $status = $? >> 8;
	close $lock;
	return ($status, $out, $err, $waited);
}

1;
