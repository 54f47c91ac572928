# Kept history writers never cost another ask its history row: with every max_worker_processes slot held by a
# history writer kept idle for its session's next ask, a new session's ask is recorded all the same (the kept
# writers see the shortage and leave, the ask tries again), and a fan-out that wanted a worker makes them leave too.
# Without multidb in shared_preload_libraries no writer is kept at all.
use strict;
use warnings;

use JSON::PP;
use MultidbCluster;
use MultidbLlm;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $kept = 3;  # sessions whose writers fill every slot
my $remote = start_remote('remote');
# No logical replication launcher: every one of the max_worker_processes slots is a history writer's.
my $coordinator = start_coordinator(max_worker_processes => $kept,
	conf => "shared_preload_libraries = 'multidb'\nmax_logical_replication_workers = 0\n");
add_connection($coordinator, 'r', $remote);
my $llm = MultidbLlm->new(rules => [ { match => 'quick', reply => encode_json({
				queries => [ { database => 'r', sql => 'SELECT 1 AS one' } ], explanation => 'Quick.' }) } ],
	default => 'no scripted reply');
$coordinator->safe_psql('postgres', "
	CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm
	  OPTIONS (provider 'openai', url 'http://127.0.0.1:" . $llm->port . "/v1', model 'stub-model', timeout '5s');
	CREATE USER MAPPING FOR PUBLIC SERVER llm OPTIONS (api_key 'sk-test');");
is($coordinator->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity WHERE backend_type NOT IN
	('client backend', 'checkpointer', 'background writer', 'walwriter', 'autovacuum launcher', 'archiver')}),
	'0', 'no background worker holds a slot before the asks');

my $writers = q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'multidb history writer'};
my $asked = 0;
sub ask_sql
{
	$asked++;
	return "SELECT count(*) FROM multidb.ask('quick $asked', connections => ARRAY['r'])";
}

sub status_of
{
	my ($question) = @_;
	return $coordinator->safe_psql('postgres',
		"SELECT coalesce(string_agg(status, ','), 'no history row') FROM multidb.query_history WHERE question = '$question'");
}

# Each session asks once and stays open: its writer is kept idle, holding a slot. Returns when the last one's ask is
# done (the writers are idle since then at the latest).
my @sessions = map { $coordinator->background_psql('postgres', on_error_stop => 0) } 1 .. $kept;
sub fill_slots
{
	my @asks;
	for my $session (@sessions)
	{
		my $sql = ask_sql();
		$session->query_safe($sql);
		push @asks, "quick $asked";
	}
	return @asks;
}

my @asks = fill_slots();
my $filled_at = time;
is(join(',', map { status_of($_) } @asks), join(',', ('ok') x $kept), "$kept sessions' asks recorded");
is($coordinator->safe_psql('postgres', $writers), $kept, "... and their $kept writers kept idle: every worker slot taken");

# A new session's ask: its writer finds no slot free, says so, and gets one as the kept writers leave.
my $sql = ask_sql();
my $started = time;
my ($ret, $stdout, $stderr) = $coordinator->psql('postgres', "$sql; SELECT status FROM multidb.query_history WHERE question = 'quick $asked'");
my $took = time - $started;
is($stdout, "1\nok", 'a new ask while kept writers hold every slot: its history row is there when it returns');
unlike($stderr, qr/could not record/, '... with no WARNING') or diag($stderr);
cmp_ok(time - $filled_at, '<', 5, sprintf('... before the kept writers would have left by themselves (the ask took %.2f s)', $took));

# The sessions ask again (their writers left: each starts a new one, recorded as before), filling the slots again.
@asks = fill_slots();
$filled_at = time;
is(join(',', map { status_of($_) } @asks), join(',', ('ok') x $kept), "the kept sessions' next asks are recorded too");
is($coordinator->safe_psql('postgres', $writers), $kept, '... their writers kept again');
# A fan-out with workers: its target runs in the backend for want of a slot, and the kept writers make way.
($ret, $stdout, $stderr) = $coordinator->psql('postgres',
	"SET multidb.keep_connections = off; SELECT source_db, row_data->>'one' FROM multidb.fanout('SELECT 1 AS one', ARRAY['r'])");
is($stdout, 'r|1', 'a fan-out with workers while kept writers hold every slot answers');
ok($coordinator->poll_query_until('postgres', $writers, '0'), '... and the kept writers leave');
cmp_ok(time - $filled_at, '<', 5, '... at once, not after their 5 s idle');
$_->quit for @sessions;

# Not preloaded: no shared signal, so no writer is kept; each ask's writer leaves once the ask is recorded.
my $plain = start_coordinator(name => 'plain');
add_connection($plain, 'r', $remote);
$plain->safe_psql('postgres', "
	CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm
	  OPTIONS (provider 'openai', url 'http://127.0.0.1:" . $llm->port . "/v1', model 'stub-model', timeout '5s');
	CREATE USER MAPPING FOR PUBLIC SERVER llm OPTIONS (api_key 'sk-test');");
my $session = $plain->background_psql('postgres', on_error_stop => 0);
$session->query_safe(ask_sql());
my $recorded_at = time;
is($plain->safe_psql('postgres', "SELECT status FROM multidb.query_history WHERE question = 'quick $asked'"), 'ok',
	'not preloaded: the ask is recorded');
ok($plain->poll_query_until('postgres', $writers, '0'), '... and its writer is not kept');
cmp_ok(time - $recorded_at, '<', 5, '... not even for a while');
$session->quit;
done_testing();
