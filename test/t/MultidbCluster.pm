# Helpers for multidb's TAP tests: remote servers that demand passwords over TCP, a coordinator with the
# extension, and the checks every fault test needs (no remote query of ours left, no worker left).
package MultidbCluster;

use strict;
use warnings;

use Exporter 'import';
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

our @EXPORT = qw(start_remote start_coordinator add_connection remote_sessions_of_ours workers_of
  wait_until_clean background_fanout backend_pid_running);

# A remote server on 127.0.0.1 with a role "reader" (password "secret") and a table "items" of 100 rows.
# trust => 1 makes TCP connections trusted (no password asked), for the tests that must refuse that.
sub start_remote
{
	my ($name, %opts) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', "listen_addresses = '127.0.0.1'\n" . ($opts{conf} // ''));
	my $tcp_auth = $opts{trust} ? 'trust' : 'scram-sha-256';
	open my $hba, '>', $node->data_dir . '/pg_hba.conf' or die "pg_hba.conf: $!";
	print $hba "local all all trust\nhost all all 127.0.0.1/32 $tcp_auth\n";
	close $hba;
	$node->start;
	$node->safe_psql('postgres', q{
		CREATE ROLE reader LOGIN PASSWORD 'secret';
		CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2));
		INSERT INTO items SELECT g, 'item ' || g, g * 1.5 FROM generate_series(1, 100) g;
		CREATE SEQUENCE counter;
		GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON items TO reader;
		GRANT ALL ON SEQUENCE counter TO reader;
	});
	return $node;
}

# The coordinator: the extension installed, its superuser's objects kept out of schema multidb (the OS
# user, hence the superuser, may be called multidb too).
sub start_coordinator
{
	my (%opts) = @_;
	my $node = PostgreSQL::Test::Cluster->new($opts{name} // 'coordinator');
	$node->init;
	$node->append_conf('postgresql.conf',
		"max_worker_processes = " . ($opts{max_worker_processes} // 16) . "\n" . ($opts{conf} // ''));
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION multidb; ALTER ROLE CURRENT_USER SET search_path = public');
	return $node;
}

# add_connection($coordinator, 'r1', $remote, user => 'reader', password => 'secret', dbname => 'postgres',
#                in => 'postgres', validate => 0): a connection to database dbname of remote, made in database "in"
# of the coordinator; multidb tries it first unless validate => 0 (for a connection meant to fail at use)
sub add_connection
{
	my ($coordinator, $name, $remote, %opts) = @_;
	my $user = $opts{user} // 'reader';
	my $password = exists $opts{password} ? $opts{password} : 'secret';
	my $conninfo = 'host=127.0.0.1 port=' . $remote->port . ' dbname=' . ($opts{dbname} // 'postgres') . " user=$user";
	$conninfo .= " password=$password" if defined $password;
	my $validate = exists $opts{validate} && !$opts{validate} ? ', validate => false' : '';
	$coordinator->safe_psql($opts{in} // 'postgres', "SELECT multidb.add_connection('$name', '$conninfo'$validate)");
	return;
}

# Sessions multidb opened on a remote (any state).
sub remote_sessions_of_ours
{
	my ($remote) = @_;
	return $remote->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'multidb'");
}

sub workers_of
{
	my ($coordinator) = @_;
	return $coordinator->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'multidb worker'");
}

# Seconds until no remote session of ours and no worker remain, or undef if still there after $limit.
sub wait_until_clean
{
	my ($coordinator, $remotes, $limit) = @_;
	my $start = time;
	while (time - $start < $limit)
	{
		my $left = workers_of($coordinator);
		$left += remote_sessions_of_ours($_) for @$remotes;
		return time - $start if $left == 0;
		usleep(20_000);
	}
	return undef;
}

# Starts psql running @statements on the coordinator in the background; returns the IPC::Run handle
# and references to its stdout and stderr.
sub background_fanout
{
	my ($coordinator, @statements) = @_;
	my ($stdout, $stderr) = ('', '');
	my @command = ('psql', '-XAtq', '-d', $coordinator->connstr('postgres'));
	push @command, '-c', $_ for @statements;
	my $handle = IPC::Run::start(\@command, '>', \$stdout, '2>', \$stderr);
	return ($handle, \$stdout, \$stderr);
}

sub backend_pid_running
{
	my ($coordinator, $pattern) = @_;
	return $coordinator->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND query LIKE '%$pattern%' "
		  . "AND pid <> pg_backend_pid()");
}

1;
