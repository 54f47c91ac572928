# Too few background worker slots is never an error: what finds no slot runs inside the calling backend.
use strict;
use warnings;

use MultidbCluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my @remotes = map { start_remote("r$_") } 1 .. 3;
# The logical replication launcher holds one of the slots.
# Targets run in workers only without kept connections.
my $coordinator = start_coordinator(max_worker_processes => 2, conf => "multidb.keep_connections = off\n");
add_connection($coordinator, "r$_", $remotes[$_ - 1]) for 1 .. 3;

my ($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SET client_min_messages = debug1; "
	  . "SELECT source_db, row_data->>'n' FROM multidb.fanout('SELECT pg_sleep(1), count(*) AS n FROM items', "
	  . "ARRAY['r1', 'r2', 'r3'])");
is($ret, 0, 'a fanout over three targets succeeds with one free worker slot');
is($stdout, "r1|100\nr2|100\nr3|100", 'all rows, tagged and in order');
my @fallbacks = $stderr =~ /DEBUG:  multidb: no background worker slot free for connection "(r\d)"/g;
ok(@fallbacks >= 1, 'a DEBUG1 line says which targets ran in the backend: ' . join(', ', @fallbacks));

# No slot at all.
$coordinator->append_conf('postgresql.conf', "max_worker_processes = 1\n");
$coordinator->restart;
my $start = time;
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SET client_min_messages = debug1; "
	  . "SELECT source_db, n FROM multidb.fanout_rows('SELECT pg_sleep(2), count(*) FROM items', "
	  . "ARRAY['r3', 'r1', 'r2']) AS t(source_db text, slept text, n int)");
my $elapsed = time - $start;
is($stdout, "r3|100\nr1|100\nr2|100", 'no free slot: all rows still come back');
@fallbacks = $stderr =~ /no background worker slot free for connection "(r\d)"/g;
is_deeply([ sort @fallbacks ], [ 'r1', 'r2', 'r3' ], 'all three ran in the calling backend');
cmp_ok($elapsed, '<', 4.5, sprintf('still in parallel (%.2f s for 3 x 2 s)', $elapsed));

# A remote error in the in-backend path is reported like a worker's: r2 gets a division by zero.
$remotes[1]->safe_psql('postgres', 'DELETE FROM items WHERE id = 100');
my $divide = "SELECT 1 / (count(*) - 99) AS x FROM items";
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SET multidb.on_error = warn; SELECT source_db FROM multidb.fanout('$divide', ARRAY['r1', 'r2', 'r3'])");
is($stdout, "r1\nr3", 'in-backend, warn mode: the others\' rows');
like($stderr, qr/WARNING:  connection "r2": division by zero/, 'and a WARNING naming the failed one');
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SELECT source_db FROM multidb.fanout('$divide', ARRAY['r1', 'r2', 'r3'])",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($stderr, qr/ERROR:  22012: connection "r2": division by zero/, 'in-backend, error mode: the remote SQLSTATE');

ok(defined wait_until_clean($coordinator, \@remotes, 1), 'no session left');
done_testing();
