# Helpers for multidb's TAP tests: remote servers that demand passwords over TCP, a coordinator with the
# extension, and the checks every fault test needs (no remote query of ours left, no worker left); every
# cluster's data directory a copy of one initdb's (below).
package MultidbCluster;

use strict;
use warnings;

use Digest::MD5;
use Exporter 'import';
use File::Basename;
use File::Path;
use IPC::Run;
use POSIX ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

our @EXPORT = qw(start_remote start_coordinator add_connection remote_sessions_of_ours workers_of
  wait_until_clean background_fanout backend_pid_running);

# Every cluster of the TAP tests starts as a copy of one data directory that initdb made once per run, kept in
# tmp_check/: a run makes over a hundred clusters, and initdb costs about a second each (three or more on a
# loaded machine) where a copy costs a tenth. PostgreSQL 17's framework does the same (INITDB_TEMPLATE); 15's
# does not. Only init without `extra` initdb options is served from the copy — exactly the initdb PostgreSQL 15
# runs there (`initdb -A trust -N`); the rest of init (pg_hba.conf, postgresql.conf) runs as it always did. The
# template's name holds what decides its contents (the initdb binary, the locale and time zone of the
# environment), so a run with another server or locale makes its own. MULTIDB_TAP_INITDB=1 runs initdb for
# every cluster, as before.
sub initdb_template
{
	my @initdb = grep { -x } map { "$_/initdb" } split /:/, $ENV{PATH};
	return undef unless @initdb;
	my @stat = stat $initdb[0];
	my $key = Digest::MD5::md5_hex(join "\0", $initdb[0], $stat[7], $stat[9],
		map { $ENV{$_} // '' } qw(LANG LANGUAGE LC_ALL LC_COLLATE LC_CTYPE LC_MESSAGES LC_MONETARY LC_NUMERIC LC_TIME TZ PGTZ));
	my $template = "$PostgreSQL::Test::Utils::tmp_check/initdb_template_$key";
	return $template if -f "$template/PG_VERSION";
	# Made beside its final name and renamed into place: a test running at the same time never copies half of it.
	my $making = "$template.$$";
	PostgreSQL::Test::Utils::system_or_bail('initdb', '-D', $making, '-A', 'trust', '-N');
	if (!rename $making, $template)
	{
		# Another test file made it first.
		File::Path::rmtree($making);
		die "initdb template $template: $!" unless -f "$template/PG_VERSION";
	}
	return $template;
}

{
	no warnings 'redefine';
	my $init = \&PostgreSQL::Test::Cluster::init;
	*PostgreSQL::Test::Cluster::init = sub {
		my ($self, %params) = @_;
		return $init->(@_) if $params{extra} || $ENV{MULTIDB_TAP_INITDB};
		my $template = initdb_template();
		return $init->(@_) unless defined $template;
		my $run = \&PostgreSQL::Test::Utils::system_or_bail;
		# init's `initdb -D <pgdata> -A trust -N` becomes a copy of the template; its other commands run.
		local *PostgreSQL::Test::Utils::system_or_bail = sub {
			return $run->(@_) unless $_[0] eq 'initdb';
			note('data directory copied from the initdb template');
			return $run->('cp', '-RPp', $template, $_[2]);
		};
		return $init->(@_);
	};

	# A passing test's clusters are removed at its end (PostgreSQL::Test::Cluster's END block), one file at a
	# time; on a disk whose freed blocks are discarded as they go (ext4 mounted with `discard`, as on the
	# development machine) that took a fifth of a second to a second per tenant database: 046's three clusters
	# of 100 databases kept the run waiting 50 s to four minutes after its last assertion, 045's and 024's
	# 20 s to two minutes. The directory is renamed into tmp_check/trash/ instead and removed by an `rm -rf`
	# of its own while the next test runs (the harness removes whatever is left with its work directory).
	my $clean = \&PostgreSQL::Test::Cluster::clean_node;
	*PostgreSQL::Test::Cluster::clean_node = sub {
		my ($self) = @_;
		return $clean->(@_) if defined $self->{_pid} || !-d $self->{_basedir};
		my $trash = "$PostgreSQL::Test::Utils::tmp_check/trash";
		mkdir $trash;
		my $moved = "$trash/" . File::Basename::basename($self->{_basedir}) . ".$$";
		return $clean->(@_) unless rename $self->{_basedir}, $moved;
		my $pid = fork;
		if (defined $pid && $pid == 0)
		{
			# Detached, holding none of the test's output (prove waits for its pipe to close; the framework's
			# other handles on it are closed at exec).
			POSIX::setsid();
			my $null = POSIX::open('/dev/null', POSIX::O_RDWR());
			POSIX::dup2($null, $_) for 0 .. 2;
			exec('rm', '-rf', $moved) or POSIX::_exit(1);
		}
		File::Path::rmtree($moved) unless defined $pid;
		return;
	};
}

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
