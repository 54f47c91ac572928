# Three real remote servers queried at once: the wall time is the slowest query, not the sum.
use strict;
use warnings;

use MultidbCluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my @remotes = map { start_remote("r$_") } 1 .. 3;
my $coordinator = start_coordinator();
add_connection($coordinator, "r$_", $remotes[$_ - 1]) for 1 .. 3;

my $start = time;
my $result = $coordinator->safe_psql('postgres',
	"SELECT source_db, row_data->>'port' FROM multidb.fanout('SELECT pg_sleep(2), current_setting(''port'') AS port', "
	  . "ARRAY['r2', 'r1', 'r3'])");
my $elapsed = time - $start;
# In turn they would take 6 s; the bound leaves room for a loaded machine (speed itself is measured in bench/).
cmp_ok($elapsed, '<', 4.5, sprintf('3 targets x pg_sleep(2) took %.2f s: in parallel', $elapsed));
is($result,
	join("\n", map { "r$_|" . $remotes[$_ - 1]->port } 2, 1, 3),
	'every row tagged with the server it came from, in array order');

$start = time;
$result = $coordinator->safe_psql('postgres',
	"SELECT source_db, n FROM multidb.fanout_rows('SELECT pg_sleep(2), count(*) FROM items', ARRAY['r1', 'r2', 'r3']) "
	  . "AS t(source_db text, slept text, n bigint)");
$elapsed = time - $start;
cmp_ok($elapsed, '<', 4.5, sprintf('fanout_rows too: %.2f s', $elapsed));
is($result, "r1|100\nr2|100\nr3|100", 'typed rows from all three');

# More targets than multidb.max_workers: they queue, and all still answer.
$start = time;
$result = $coordinator->safe_psql('postgres',
	"SET multidb.max_workers = 2; SELECT count(*) FROM multidb.fanout('SELECT pg_sleep(0.5)', ARRAY['r1', 'r2', 'r3'])");
$elapsed = time - $start;
is($result, '3', 'with max_workers = 2 every target still answers');
cmp_ok($elapsed, '>=', 1.0, sprintf('and the third waited for a free worker (%.2f s)', $elapsed));

ok(defined wait_until_clean($coordinator, \@remotes, 5), 'no worker and no remote session left afterwards');

done_testing();
