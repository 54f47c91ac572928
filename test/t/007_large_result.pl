# A million rows with work_mem = 64kB: everything comes back (the result spills to disk), in order.
use strict;
use warnings;

use MultidbCluster;
use PostgreSQL::Test::Utils;
use Test::More;

my @remotes = map { start_remote("r$_") } 1 .. 2;
my $coordinator = start_coordinator();
add_connection($coordinator, "r$_", $remotes[$_ - 1]) for 1 .. 2;
my $million = 'SELECT g, md5(g::text) AS h FROM generate_series(1, 1000000) g';
my $expected_md5 = $remotes[0]->safe_psql('postgres', "SELECT md5(string_agg(h, '' ORDER BY g)) FROM ($million) s");

is($coordinator->safe_psql('postgres', qq{
	SET work_mem = '64kB';
	SELECT count(*), sum(g), md5(string_agg(h, '' ORDER BY g)) FROM multidb.fanout_rows('$million', ARRAY['r1'])
	    AS t(source_db text, g int8, h text)}),
	"1000000|500000500000|$expected_md5", 'fanout_rows: 1,000,000 rows, complete and intact');

is($coordinator->safe_psql('postgres', qq{
	SET work_mem = '64kB';
	SELECT source_db, count(*), sum((row_data->>'g')::int8),
	       bool_and((row_data->>'g')::int8 = n - CASE WHEN source_db = 'r2' THEN 0 ELSE 1000000 END)
	  FROM multidb.fanout('$million', ARRAY['r2', 'r1']) WITH ORDINALITY AS f(source_db, row_data, n)
	 GROUP BY source_db ORDER BY min(n)}),
	"r2|1000000|500000500000|t\nr1|1000000|500000500000|t",
	'fanout over two servers: 2,000,000 rows, each server\'s rows complete and in remote order');
done_testing();
