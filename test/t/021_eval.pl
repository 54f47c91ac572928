# make eval's harness judged by itself: over the demo's databases and the eval's fleet of 60 tenant databases
# (eval/make_fleet.sh, group '@fleet'), the scripted stand-in answering every question
# of eval/questions.json with its gold plan must score 100% everywhere, and answering with the scripted mistakes
# must lose exactly those questions — no more, no fewer — in the figures overall, per category and for routing.
# The mistakes run asks the questions that have a scripted mistake and, in each category, one that has none (so
# that every figure mixes right and wrong): the others would get the very reply of the gold run again, and their
# outcome is the gold run's (half of the file's time was that second copy, most of it the fleet's).
use strict;
use warnings;

use File::Temp qw(tempdir);
use JSON::PP;
use MultidbCluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = $ENV{TESTDIR} // '.';
my $production = start_remote('production');
my $backup = start_remote('backup');
my @tenants = qw(tenant_north tenant_south tenant_east tenant_west);

sub psql_file
{
	my ($node, $database, $file, %variables) = @_;
	system_or_bail('psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', (map { ('-v', "$_=$variables{$_}") } sort keys %variables),
		'-d', $node->connstr($database), '-f', "$root/demo/$file");
	return;
}

for ([ $production, 0 ], [ $backup, 3 ])
{
	my ($node, $missing) = @$_;
	$node->safe_psql('postgres', 'CREATE DATABASE shop');
	psql_file($node, 'shop', 'shop_data.sql', missing_orders => $missing);
	$node->safe_psql('shop', 'GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader');
}
$production->safe_psql('shop', 'CREATE INDEX orders_placed_at ON orders (placed_at); '
	  . 'ALTER TABLE customers ADD COLUMN vip boolean NOT NULL DEFAULT false');
for my $tenant (@tenants)
{
	$production->safe_psql('postgres', "CREATE DATABASE $tenant");
	psql_file($production, $tenant, 'tenant_data.sql', tenant => $tenant, reader => 'reader');
}

# The fleet: 60 tenant databases t001 … t060 of one schema (three without the channel migration), on production.
my $fleet = 60;
{
	local $ENV{PGHOST} = $production->host;
	local $ENV{PGPORT} = $production->port;
	local $ENV{PGUSER};
	local $ENV{PGDATABASE};
	system_or_bail('bash', "$root/eval/make_fleet.sh", $fleet, 'reader');
}
my @fleet = map { sprintf('t%03d', $_) } 1 .. $fleet;

my $coordinator = start_coordinator();
add_connection($coordinator, 'production', $production, dbname => 'shop');
add_connection($coordinator, 'backup', $backup, dbname => 'shop');
add_connection($coordinator, $_, $production, dbname => $_) for @tenants;
$coordinator->safe_psql('postgres', "SELECT multidb.create_group('shops', ARRAY['production', 'backup']); "
	  . "SELECT multidb.create_group('tenants', ARRAY['" . join("', '", @tenants) . "'])");
# Registered without trying each (as MultidbFleet.pm registers its fleets): the gold run reaches every tenant anyway,
# and one it could not reach fails that run.
$coordinator->safe_psql('postgres', "SELECT multidb.add_connection(name, format('host=127.0.0.1 port=%s dbname=%s "
	  . "user=reader password=secret', " . $production->port . ", name), validate => false) FROM unnest(ARRAY['"
	  . join("', '", @fleet) . "']) name; SELECT multidb.create_group('fleet', ARRAY['" . join("', '", @fleet) . "'])");

my $questions = decode_json(slurp_file("$root/eval/questions.json"))->{questions};
cmp_ok(scalar @$questions, '>=', 60, 'at least 60 questions (' . scalar(@$questions) . ')');
my %categories = map { $_->{category} => 1 } @$questions;
is_deeply([ sort keys %categories ], [qw(combine compare fleet followup refuse routing single)], 'all seven categories');
my @over_sets = grep { grep { $_->{databases} } @{ $_->{gold}{queries} // [] } } @$questions;
cmp_ok(scalar @over_sets, '>=', 5, 'gold plans over database sets (' . scalar(@over_sets) . ')');

sub evaluate
{
	my ($mode, $questions_file) = @_;
	my $dir = tempdir(CLEANUP => 1);
	my $json = "$dir/eval.json";
	local $ENV{PGHOST} = $coordinator->host;
	local $ENV{PGPORT} = $coordinator->port;
	local $ENV{PGDATABASE} = 'postgres';
	local $ENV{MULTIDB_DEMO_LLM_URL};
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run([ '/usr/bin/python3', "$root/eval/evaluate.py", '--stub', $mode, '--json', $json,
		  ($questions_file ? ('--questions', $questions_file) : ()) ],
		'>', \$out, '2>', \$err);
	ok($ok, "evaluate.py --stub $mode ran") or diag("$out\n$err");
	note($out);
	return decode_json(slurp_file($json));
}

# Gold plans: everything right.
my $gold_run = evaluate('gold');
my $gold = $gold_run->{summary};
is($gold->{accuracy}{percent}, 100, 'gold: execution accuracy 100%') or diag(encode_json($gold->{wrong}));
is_deeply({ map { $_ => $gold->{per_category}{$_}{percent} } keys %{ $gold->{per_category} } },
	{ map { $_ => 100 } keys %categories }, 'gold: 100% in every category');
is($gold->{routing}{percent}, 100, 'gold: routing 100%');
is($gold->{repairs}, 0, 'gold: no repair round');

# Scripted mistakes: exactly those are lost. Asked: every question with a scripted mistake, the whole session of
# a mistaken follow-up (its earlier turns as in the full run), and the first question of each category that has
# none.
my @mistaken = grep { $_->{mistake} } @$questions;
cmp_ok(scalar @mistaken, '>=', 10, 'at least ten scripted mistakes');
my %sessions = map { $_->{session} => 1 } grep { $_->{session} } @mistaken;
my %first_right;
for my $q (@$questions)
{
	$first_right{ $q->{category} } //= $q->{id} unless $q->{mistake};
}
my %asked = map { $_->{id} => 1 } grep {
	$_->{mistake} || ($_->{session} && $sessions{ $_->{session} }) || $first_right{ $_->{category} } eq $_->{id}
} @$questions;
my @subset = grep { $asked{ $_->{id} } } @$questions;
is_deeply([ sort keys %{ { map { $_->{category} => 1 } grep { !$_->{mistake} } @subset } } ], [ sort keys %categories ],
	'the mistakes run asks, in every category, a question without a mistake too');
my $subset_file = tempdir(CLEANUP => 1) . '/questions.json';
open my $fh, '>:raw', $subset_file or die "$subset_file: $!";
print $fh JSON::PP->new->utf8->encode({ questions => \@subset });
close $fh;
my $mistakes = evaluate('mistakes', $subset_file)->{summary};
is($mistakes->{accuracy}{n}, scalar @subset, 'mistakes: ' . scalar(@subset) . ' questions judged');
is($mistakes->{accuracy}{right}, scalar(@subset) - scalar(@mistaken), 'mistakes: the figure drops by exactly the scripted ones');
is_deeply([ sort @{ $mistakes->{wrong} } ], [ sort map { $_->{id} } @mistaken ], '... and those are the ones not right');
for my $category (sort keys %categories)
{
	my $n = grep { $_->{category} eq $category } @subset;
	my $m = grep { $_->{category} eq $category } @mistaken;
	is($mistakes->{per_category}{$category}{right}, $n - $m, "mistakes: $category drops by its $m");
}
my $misrouted = grep { ($_->{mistake_kind} // '') eq 'routing' } @mistaken;
my $routed_in_gold = grep { $asked{ $_->{id} } && $_->{routed} } @{ $gold_run->{results} };
is($mistakes->{routing}{right}, $routed_in_gold - $misrouted, "mistakes: routing drops by the $misrouted misrouted ones");
done_testing();
