# A real pgbouncer between multidb and a remote, for the TAP tests that check what a pooler changes: its
# configuration written to a temporary directory (its databases, trust authentication of the user "pooled", the
# startup options dropped as a pooler may, the pool mode and settings a test asks for), started on a free loopback
# port, and stopped by the caller.
package MultidbPooler;

use strict;
use warnings;

use Exporter 'import';
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;

our @EXPORT = qw(start_pgbouncer);

# start_pgbouncer(databases => { alias => 'host=... port=... dbname=... user=... password=...', ... },
#                 pool_mode => 'session' | 'transaction', settings => "more = lines\n"): its port and its IPC::Run
# handle (stop it with ->kill_kill). Clients connect as the user "pooled" without a password.
sub start_pgbouncer
{
	my (%given) = @_;
	my $dir = PostgreSQL::Test::Utils::tempdir();
	my $port = PostgreSQL::Test::Cluster::get_free_port();
	my $databases = join '', map { "$_ = $given{databases}{$_}\n" } sort keys %{ $given{databases} };
	open my $ini, '>', "$dir/pgbouncer.ini" or die $!;
	print $ini "[databases]\n$databases"
	  . "[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = $port\nunix_socket_dir =\nauth_type = trust\n"
	  . "auth_file = $dir/users.txt\nignore_startup_parameters = options\npool_mode = $given{pool_mode}\n"
	  . ($given{settings} // '') . "logfile = $dir/pgbouncer.log\n";
	close $ini;
	open my $users, '>', "$dir/users.txt" or die $!;
	print $users qq{"pooled" ""\n};
	close $users;
	my $pooler = IPC::Run::start([ '/usr/sbin/pgbouncer', "$dir/pgbouncer.ini" ], '>', \my $out, '2>', \my $err);
	return ($port, $pooler);
}

1;
