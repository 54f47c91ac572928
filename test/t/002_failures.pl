# Servers that fail: stopped, never answering, erroring. The call fails cleanly or warns, never hangs.
use strict;
use warnings;

use IO::Socket::INET;
use MultidbCluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my @remotes = map { start_remote("r$_") } 1 .. 3;
my $coordinator = start_coordinator();
add_connection($coordinator, "r$_", $remotes[$_ - 1]) for 1 .. 3;
my $all = "ARRAY['r1', 'r2', 'r3']";

$remotes[1]->stop;

my ($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SELECT * FROM multidb.fanout('SELECT count(*) AS n FROM items', $all)",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
isnt($ret, 0, 'a stopped server fails the call with on_error = error');
like($stderr, qr/ERROR:  08001: connection "r2": could not connect/, 'the ERROR is 08001 and names the stopped server');
is($stdout, '', 'and no rows come back');

($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SET multidb.on_error = warn; SELECT source_db, row_data FROM multidb.fanout('SELECT count(*) AS n FROM items', $all)");
is($ret, 0, 'with on_error = warn the call succeeds');
is($stdout, "r1|{\"n\": 100}\nr3|{\"n\": 100}", 'the other servers\' rows, in order');
my @warnings = $stderr =~ /WARNING:  (.*)$/mg;
is(scalar @warnings, 1, 'exactly one WARNING');
like($warnings[0] // '', qr/^connection "r2": could not connect/, 'naming the stopped server');

$remotes[1]->start;
is($coordinator->safe_psql('postgres', "SELECT count(*) FROM multidb.fanout('SELECT 1', $all)"), '3',
	'after a restart the server answers again');

# A server that accepts TCP but never speaks: the connect deadline ends the wait.
my $silent = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 5, Proto => 'tcp')
  or die "listener: $!";
my $silent_port = $silent->sockport;
$coordinator->safe_psql('postgres',
	"SELECT multidb.add_connection('silent', 'host=127.0.0.1 port=$silent_port dbname=x user=x password=x', "
	  . "validate => false)");
my $start = time;
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SET multidb.connect_timeout = '2s'; SELECT * FROM multidb.fanout('SELECT 1', ARRAY['r1', 'silent'])",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
my $elapsed = time - $start;
like($stderr, qr/ERROR:  08001: connection "silent": could not connect within 2 s/, 'a silent server fails with 08001');
cmp_ok($elapsed, '>=', 1.9, sprintf('after the connect timeout (%.2f s)', $elapsed));
cmp_ok($elapsed, '<', 8, 'and not much later');

# The server option connect_timeout wins over the setting.
$coordinator->safe_psql('postgres', "ALTER SERVER silent OPTIONS (ADD connect_timeout '1')");
$start = time;
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SET multidb.on_error = warn; SELECT source_db FROM multidb.fanout('SELECT 1', ARRAY['silent', 'r1'])");
$elapsed = time - $start;
is($stdout, 'r1', 'warn mode: the silent server is skipped, r1 answers');
like($stderr, qr/WARNING:  connection "silent": could not connect within 1 s/, 'with the server\'s own timeout');
cmp_ok($elapsed, '<', 8, sprintf('and then gives up (%.2f s)', $elapsed));
close $silent;

# A remote error carries the remote SQLSTATE, and the remote's detail and hint.
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SELECT * FROM multidb.fanout('SELECT * FROM items WHERE id = ''x''', ARRAY['r3'])",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($stderr, qr/ERROR:  22P02: connection "r3": invalid input syntax for type integer: "x"/,
	'remote error: SQLSTATE and message, naming the connection');
like($stderr, qr/CONTEXT:  remote SQL on connection "r3"/, 'the remote SQL is in the context');

ok(defined wait_until_clean($coordinator, \@remotes, 5), 'no worker and no remote session left');
done_testing();
