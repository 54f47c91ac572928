# Twenty tenant databases as one connection group: fan-out, typed rows and a session over '@tenants'.
use strict;
use warnings;

use JSON::PP;
use MultidbCluster;
use MultidbLlm;
use PostgreSQL::Test::Utils;
use Test::More;

my $server = start_remote('tenants', conf => "max_connections = 60\n");
my @tenants = map { sprintf('tenant_%02d', $_) } 1 .. 20;
for my $i (1 .. 20)
{
	$server->safe_psql('postgres', "CREATE DATABASE $tenants[$i - 1]");
	$server->safe_psql($tenants[ $i - 1 ], "CREATE TABLE orders (id int PRIMARY KEY, total numeric);
		INSERT INTO orders SELECT g, g FROM generate_series(1, $i) g; GRANT SELECT ON orders TO reader;");
}
my $coordinator = start_coordinator();
for my $tenant (@tenants)
{
	$coordinator->safe_psql('postgres', "SELECT multidb.add_connection('$tenant', 'host=127.0.0.1 port="
		  . $server->port . " dbname=$tenant user=reader password=secret')");
}
$coordinator->safe_psql('postgres',
	"SELECT multidb.create_group('tenants', ARRAY[" . join(',', map {"'$_'"} @tenants) . "])");

my $expected = join "\n", map { "$tenants[$_ - 1]|$_" } 1 .. 20;
is($coordinator->safe_psql('postgres',
	"SELECT source_db, row_data->>'n' FROM multidb.fanout('SELECT count(*) AS n FROM orders', ARRAY['\@tenants'])"),
	$expected, 'fanout over @tenants: twenty databases, tagged, in group order');
is($coordinator->safe_psql('postgres',
	"SELECT source_db, n FROM multidb.fanout_rows('SELECT count(*) FROM orders', ARRAY['\@tenants']) AS t(source_db text, n int)"),
	$expected, 'fanout_rows too');
is($coordinator->safe_psql('postgres',
	"SET multidb.max_workers = 4; SELECT count(*), sum((row_data->>'n')::int) FROM multidb.fanout('SELECT count(*) AS n FROM orders', ARRAY['\@tenants'])"),
	'20|210', 'with four workers at a time the others queue, and all answer');

my $llm = MultidbLlm->new(rules => [ { match => 'busiest tenant',
	reply => encode_json({ queries => [ map { { database => $_, sql => 'SELECT count(*) AS orders FROM orders' } } @tenants ],
		explanation => 'orders per tenant' }) } ]);
$coordinator->safe_psql('postgres',
	"CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm OPTIONS (url 'http://127.0.0.1:" . $llm->port . "/v1', model 'm');"
	  . "CREATE USER MAPPING FOR PUBLIC SERVER llm");
my $session = $coordinator->safe_psql('postgres', "SELECT multidb.create_session('tenants', ARRAY['\@tenants'])");
is($coordinator->safe_psql('postgres',
	"SELECT source_db FROM multidb.ask('Which is the busiest tenant?', '$session') ORDER BY (row_data->>'orders')::int DESC LIMIT 1"),
	'tenant_20', 'a session over @tenants asks all twenty');
my ($request) = $llm->requests;
my $prompt = join "\n", map { $_->{content} } @{ $request->{body}{messages} };
is(scalar(() = $prompt =~ /database "tenant_\d\d", table public\.orders/g), 20, 'the prompt shows each tenant\'s schema');
ok(defined wait_until_clean($coordinator, [$server], 2), 'no worker and no remote session left');
done_testing();
