# Asking over a fleet: 300 tenant databases of one schema on 3 clusters (MultidbFleet.pm), with
# multidb.max_connections_per_host below each cluster's 100 databases, asked through the scripted LLM. A plan that
# names the set '@tenants' runs on all 300 within the bound, and its combine step reads them as one relation
# "tenants" (source_db first): the tenants ranked by their orders, the busiest first, each with its own count.
# The prompt the LLM got describes the shared schema once, with the tenants written compactly and counted; after a
# migration that reached only three tenants, those three are named with what differs. History keeps the plan as
# written (the set) and its expansion, and one row count per tenant. (Each ask over all 300 takes tens of seconds:
# one does the fleet; after the migration a set of the three tenants it reached answers, the prompt still the
# fleet's. A set plan without a combine step is TAP 047's, its fan-out at fleet size 045's.)
use strict;
use warnings;
use utf8;

use JSON::PP;
use MultidbCluster;
use MultidbFleet;
use MultidbLlm;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $started = time;
my $bound = 8;
# Up to the bound on each of the 3 clusters at once (the default max_workers, 8, would be one cluster's worth).
my $coordinator = start_coordinator(conf => "shared_preload_libraries = 'multidb'\n"
	  . "multidb.max_connections_per_host = $bound\nmultidb.max_workers = " . 3 * $bound . "\n");
my $fleet = start_fleet($coordinator, tenants => 300, clusters => 3);
my @names = @{ $fleet->{names} };
my @remotes = @{ $fleet->{remotes} };
my %orders = %{ $fleet->{orders} };
note(sprintf('300 tenant databases on 3 clusters created in %.1f s, registered in %.1f s',
	$fleet->{seconds}{create}, $fleet->{seconds}{register}));
sub remote_of { return $remotes[ $fleet->{cluster_of}{ $_[0] } ] }

# One tenant in the middle of the list is the busiest, by far: the ranking has one right answer.
my $busiest = 't0137';
remote_of($busiest)->safe_psql($busiest,
	"INSERT INTO orders SELECT g, 1, 'open', now(), 1 FROM generate_series(1001, 1020) g");
$orders{$busiest} += 20;

sub plan_json
{
	my (%plan) = @_;
	return encode_json({ %plan, explanation => 'scripted' });
}
my $per_tenant = { databases => ['@tenants'], sql => 'SELECT count(*) AS n FROM orders' };
my $ranking = 'Rank the tenants by their orders';
my $migrated = 'How many customers have the migrated tenants?';
my $llm = MultidbLlm->new(rules => [
	{ match => $ranking,
	  reply => plan_json(queries => [$per_tenant], combine => 'SELECT source_db, n FROM tenants ORDER BY n DESC, source_db') },
	{ match => 'How many orders has the first tenant, alone?',
	  reply => plan_json(queries => [ { database => 't0001', sql => 'SELECT count(*) AS n FROM orders' } ]) },
	{ match => $migrated,
	  reply => plan_json(queries => [ { databases => [qw(t0003 t0005 t0009)], sql => 'SELECT count(*) AS n FROM customers' } ]) },
]);
$coordinator->safe_psql('postgres',
	"CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm OPTIONS (url 'http://127.0.0.1:" . $llm->port . "/v1', model 'm');"
	  . "CREATE USER MAPPING FOR PUBLIC SERVER llm");

sub ask
{
	my ($question) = @_;
	my $start = time;
	my ($ret, $out, $err) = $coordinator->psql('postgres',
		"SELECT source_db, row_data FROM multidb.ask('$question', connections => ARRAY['\@tenants'])");
	note(sprintf('%s: %.2f s', $question, time - $start));
	diag($err) if $ret;
	return $out;
}

# The prompt of the last request whose question is $question, all its messages together.
sub prompt_of
{
	my ($question) = @_;
	my @requests = grep { $_->{body}{messages}[-1]{content} =~ /\Q$question\E/ } $llm->requests;
	return undef unless @requests;
	return join "\n", map { $_->{content} } @{ $requests[-1]{body}{messages} };
}

# ---- a set plan with a combine step: every tenant ranked, connections bounded meanwhile ---------------------

my $start = time;
my ($handle, $stdout, $stderr) = background_fanout($coordinator,
	"SELECT source_db, row_data->>'source_db', row_data->>'n' FROM multidb.ask('$ranking', connections => ARRAY['\@tenants'])");
my ($max, $samples) = (0, 0);
while ($handle->pumpable)
{
	for my $remote (@remotes)
	{
		my $n = remote_sessions_of_ours($remote);
		$max = $n if $n > $max;
	}
	$samples++;
	$handle->pump_nb;
	usleep(20_000);
}
$handle->finish;
note(sprintf('%s: %.2f s', $ranking, time - $start));
my @ranked = sort { $orders{$b} <=> $orders{$a} || $a cmp $b } @names;    # $busiest first, by 20 orders
is($$stdout =~ s/\n\z//r, join("\n", map { "combined|$_|$orders{$_}" } @ranked),
	'a plan over @tenants with a combine step over the relation tenants: all 300 tenants, each with its own count, '
	  . 'the busiest first') or diag($$stderr);
cmp_ok($max, '<=', $bound, "at most $bound of multidb's sessions on any cluster meanwhile ($max, $samples samples)");
is($coordinator->safe_psql('postgres', qq{
	SELECT plan->'sets'->0->'databases', plan->'sets'->0->>'sql', plan->'sets'->0->>'relation',
	       jsonb_array_length(plan->'sets'->0->'members'), plan->'sets'->0->'members'->>0,
	       plan->'sets'->0->'members'->>299, jsonb_array_length(plan->'queries'), plan->'queries'->136->>'database',
	       plan->>'combine'
	  FROM multidb.query_history WHERE question = '$ranking'}),
	'["@tenants"]|SELECT count(*) AS n FROM orders|tenants|300|t0001|t0300|300|t0137|'
	  . 'SELECT source_db, n FROM tenants ORDER BY n DESC, source_db',
	'history: the plan as written (the set, its relation, its 300 members) and its expansion, one statement each');
is($coordinator->safe_psql('postgres', qq{
	SELECT (SELECT count(*) FROM jsonb_object_keys(row_counts) k WHERE k <> 'combined'),
	       (SELECT sum(value::int) FROM jsonb_each_text(row_counts) WHERE key <> 'combined'),
	       (SELECT count(*) FROM jsonb_object_keys(timings_ms) k WHERE k <> 'combined'),
	       row_counts->>'t0137', row_counts->>'combined',
	       (SELECT count(*) FROM unnest(databases_used) d WHERE d <> 'combined'), status
	  FROM multidb.query_history WHERE question = '$ranking'}),
	'300|300|300|1|300|300|ok',
	'history: row counts (one row each) and timings, one key per tenant, and the combine step\'s; the databases used');

# ---- the prompt: the shared schema once ------------------------------------------------------------------------

my $prompt = prompt_of($ranking);
ok(defined $prompt, 'the scripted LLM was asked');
$prompt //= '';
note(sprintf('prompt for 300 identical tenants: %d bytes', length $prompt));
# One column definition of each table stands for the table's definition (describe_table writes each column once).
my %definition_of = (customers => 'country text NOT NULL', products => 'price numeric(10,2) NOT NULL',
	orders => 'placed_at timestamp with time zone NOT NULL', order_items => 'quantity integer NOT NULL');
for my $table (sort keys %definition_of)
{
	my $n = () = $prompt =~ /\Q$definition_of{$table}\E/g;
	is($n, 1, "the prompt defines $table once, not once per tenant ($n)");
}
# (ok, not like: a failure would print the whole prompt)
ok($prompt =~ /t0001 … t0300/, 'the 300 tenants are written as one range');
ok($prompt =~ /\(300; group \@tenants\)/, '... counted, and named as the group');
ok($prompt !~ /t0002/, 'no tenant is listed one by one');

# Against one tenant's prompt: the fleet costs its compact names, not 300 schemas.
is($coordinator->safe_psql('postgres', "SELECT row_data->>'n' FROM "
	  . "multidb.ask('How many orders has the first tenant, alone?', connections => ARRAY['t0001'])"),
	$orders{t0001}, 'one tenant, asked alone');
my $single = prompt_of('How many orders has the first tenant, alone?') // '';
note(sprintf('prompt for one tenant: %d bytes; for 300: %d bytes', length $single, length $prompt));
cmp_ok(length $prompt, '<', 1.5 * length($single) + 1000, 'the prompt for 300 tenants is about the size of one tenant\'s');

# ---- a migration that reached three tenants: the shared schema once, and what differs, naming them -----------

my %migration = (
	t0003 => [ 'ALTER TABLE customers ADD COLUMN loyalty_tier text', qr/loyalty_tier/ ],
	t0005 => [ 'ALTER TABLE orders DROP COLUMN status', qr/status/ ],
	t0009 => [ 'ALTER TABLE orders ALTER COLUMN total TYPE double precision', qr/double precision/ ]);
remote_of($_)->safe_psql($_, $migration{$_}[0]) for sort keys %migration;
# An ask trusts its cached schemas for multidb.schema_ttl; catalog_objects with refresh reads these three again.
$coordinator->safe_psql('postgres',
	"SELECT count(*) FROM multidb.catalog_objects(ARRAY['t0003', 't0005', 't0009'], refresh => true)");
is(ask($migrated), join("\n", map { qq{$_|{"n": 3}} } qw(t0003 t0005 t0009)),
	'after the migration, a set of the three tenants it reached answers');
my $variants = prompt_of($migrated) // '';
note(sprintf('prompt for 300 tenants, 3 of them different: %d bytes', length $variants));
for my $table (sort keys %definition_of)
{
	my $n = () = $variants =~ /\Q$definition_of{$table}\E/g;
	is($n, 1, "with three variants the prompt still defines $table once ($n)");
}
for my $tenant (sort keys %migration)
{
	my $what = $migration{$tenant}[1];
	# (the variant's name first, then its difference: the base's own names leave the variants out)
	ok($variants =~ /\b$tenant\b.{0,400}?$what/s, "the prompt names $tenant, then what differs there");
}
cmp_ok(length $variants, '<', length($prompt) + 1500, 'three variants add their differences, not three schemas');

note(sprintf('046 took %.1f s in all', time - $started));
done_testing();
