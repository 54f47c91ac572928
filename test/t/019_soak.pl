# A bounded soak: one coordinator session makes fan-outs and asks for about a minute — with workers, in the
# backend, and in the backend keeping its connections — while faults come between the calls: remote SQL errors, remote and local timeouts, a
# remote stopped and started again, LLM errors and hostile replies. The session's memory, open files, the
# coordinator's dynamic shared memory segments and workers are the same afterwards (kept connections closed
# first), no remote session of ours is left, and every ask has its history row.
use strict;
use warnings;

use IPC::Run;
use JSON::PP;
use MultidbCluster;
use MultidbLlm;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my @remotes = map { start_remote("soak$_") } 1 .. 2;
my $coordinator = start_coordinator(conf => "dynamic_shared_memory_type = posix\n");
add_connection($coordinator, "r$_", $remotes[$_ - 1]) for 1 .. 2;
sub plan_reply { return encode_json({ queries => [ map { { database => $_, sql => 'SELECT count(*) AS n FROM items' } } @_ ] }); }
my $llm = MultidbLlm->new(
	rules => [
		{ match => 'count both', reply => plan_reply('r1', 'r2') },
		{ match => 'llm fails', status => 500, raw => '{"error": {"message": "overloaded"}}' },
		{ match => 'hostile', reply => ('{' x 50_000) . ('}' x 50_000) },
	],
	default => 'no scripted reply');
$coordinator->safe_psql('postgres', "
	CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm
	  OPTIONS (provider 'openai', url 'http://127.0.0.1:" . $llm->port . "/v1', model 'stub-model', timeout '5s');
	CREATE USER MAPPING FOR PUBLIC SERVER llm OPTIONS (api_key 'sk-test');");

# One long-lived session, driven statement by statement.
my ($in, $out, $err) = ('', '', '');
my $session = IPC::Run::start([ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=0', '-d', $coordinator->connstr('postgres') ],
	'<', \$in, '>', \$out, '2>', \$err);
my $marker = 0;
sub run_in_session
{
	my ($sql) = @_;
	$marker++;
	$out = '';
	$in .= "$sql\n\\echo __done_${marker}__\n";
	$session->pump until $out =~ /__done_${marker}__/;
	return $out;
}
my $pid = run_in_session('SELECT pg_backend_pid();');
($pid) = $pid =~ /^(\d+)/;

sub backend_state
{
	my $status = slurp_file("/proc/$pid/status");
	my ($rss) = $status =~ /VmRSS:\s+(\d+)/;
	opendir(my $fds, "/proc/$pid/fd") or die $!;
	my @targets = map { readlink("/proc/$pid/fd/$_") // '' } grep { !/^\./ } readdir($fds);
	closedir($fds);
	# A relation's file (under the data directory's base/ or global/) stays open once the backend first touches that
	# relation, in Postgres's own file cache (bounded by max_files_per_process): counted apart from the rest (sockets,
	# pipes, event and signal descriptors, other files), which a leak of multidb's would be.
	my $relation_files = grep { m{/(base|global)/\d+/?\d*} } @targets;
	my $files = @targets - $relation_files;
	# The dynamic shared memory segments this backend has mapped (a worker's segment it never detached stays
	# there); /dev/shm as a whole would also count other clusters' segments on the machine.
	my %mapped = map { $_ => 1 } slurp_file("/proc/$pid/maps") =~ m{(/dev/shm/PostgreSQL\.\d+)}g;
	my $segments = keys %mapped;
	return { rss_kb => $rss, files => $files, relation_files => $relation_files, segments => $segments };
}

my @calls = (
	"SELECT count(*) FROM multidb.fanout('SELECT id FROM items', ARRAY['r1', 'r2']);",
	"SELECT count(*) FROM multidb.fanout_rows('SELECT id, name FROM items', ARRAY['r1', 'r2']) AS t(db text, id int, name text);",
	"SELECT count(*) FROM multidb.fanout('SELECT 1 / 0', ARRAY['r1']);",
	"SET multidb.statement_timeout = '200ms'; SELECT count(*) FROM multidb.fanout('SELECT pg_sleep(1)', ARRAY['r2']); RESET multidb.statement_timeout;",
	"SET statement_timeout = '150ms'; SELECT count(*) FROM multidb.fanout('SELECT pg_sleep(1)', ARRAY['r1', 'r2']); RESET statement_timeout;",
	"SELECT count(*) FROM multidb.ask('count both', connections => ARRAY['r1', 'r2']);",
	"SELECT count(*) FROM multidb.ask('llm fails', connections => ARRAY['r1']);",
	"SELECT count(*) FROM multidb.ask('hostile', connections => ARRAY['r2']);",
);

sub one_round
{
	my ($round) = @_;
	# background workers, in the backend, in the backend keeping connections: in turn
	my $mode = ('SET multidb.keep_connections = off; SET multidb.max_workers = 8;',
		'SET multidb.keep_connections = off; SET multidb.max_workers = 0;',
		'SET multidb.keep_connections = on; SET multidb.max_workers = 8;')[ $round % 3 ];
	run_in_session($mode);
	run_in_session($_) for @calls;
	if ($round % 5 == 4)
	{
		# A remote that goes away and comes back between calls.
		$remotes[1]->stop('immediate');
		run_in_session("SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY['r1', 'r2']);");
		$remotes[1]->start;
	}
	return;
}

one_round(0);    # warm: caches, libraries, the first worker
# Kept connections hold a socket each: measured without them.
run_in_session('SELECT multidb.disconnect();');
my $before = backend_state();
my $asks_before = $coordinator->safe_psql('postgres', 'SELECT count(*) FROM multidb.query_history');
my ($start, $rounds) = (time, 0);
while (time - $start < 60) { one_round(++$rounds); }
run_in_session('SELECT multidb.disconnect();');
my $after = backend_state();
my $asks = $coordinator->safe_psql('postgres', 'SELECT count(*) FROM multidb.query_history') - $asks_before;
diag(sprintf('%d rounds (%d calls) in %.0f s; RSS %d -> %d kB, files %d -> %d (and relations\' files %d -> %d), '
	  . 'DSM segments %d -> %d',
	$rounds, $rounds * @calls, time - $start, $before->{rss_kb}, $after->{rss_kb}, $before->{files}, $after->{files},
	$before->{relation_files}, $after->{relation_files}, $before->{segments}, $after->{segments}));
cmp_ok($rounds, '>=', 5, 'the soak made several rounds');
is($asks, 3 * $rounds, 'every ask — answered, failed or refused by a hostile reply — has its history row');
cmp_ok($after->{rss_kb} - $before->{rss_kb}, '<', 8 * 1024, 'the session grew by less than 8 MB');
is($after->{files}, $before->{files}, 'the session holds as many files as before (relations\' files apart)');
# A catalog first read during the soak (after an invalidation, say) opens its file once; a file per call would be
# hundreds.
cmp_ok($after->{relation_files} - $before->{relation_files}, '<=', 4, '... and at most a few more relations\' files');
is($after->{segments}, $before->{segments}, 'as many dynamic shared memory segments mapped as before');
is(workers_of($coordinator), '0', 'no worker left');
ok(defined wait_until_clean($coordinator, \@remotes, 10), 'no remote session of ours left');
like(run_in_session('SELECT 42;'), qr/^42/, 'the session still answers');
$in .= "\\q\n";
$session->finish;
done_testing();
