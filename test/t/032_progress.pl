# Live progress (multidb.progress = on): NOTICEs whose DETAIL is one JSON object, sent while the call runs. A
# client reading psql's stderr as it comes sees a fast database's done and the slow one's started long before the
# slow one's done (it sleeps 2 s), in the backend's loop and with background workers; every DETAIL parses, seq
# counts 1, 2, 3, …, and hostile connection names and SQL stay valid JSON. An ask through the scripted LLM
# reports its plan first and its end last; run_plan reports its combine step; a remote failure under
# on_error = warn is an error event and the end says partial; the guard's refusal (of a fan-out, of a plan) is a
# refused event; an ask whose statement fails goes through error, repair and the repaired plan to an ok end.
use strict;
use warnings;

use IPC::Run;
use JSON::PP;
use MultidbCluster;
use MultidbLlm;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $remote = start_remote('lanes');
$remote->safe_psql('postgres', 'CREATE DATABASE slowdb; GRANT CONNECT ON DATABASE slowdb TO reader');
my $coordinator = start_coordinator();
my $hostile = 'sl"o\\w}{';    # a connection name JSON must escape
add_connection($coordinator, 'fast', $remote);
add_connection($coordinator, $hostile, $remote, dbname => 'slowdb');
(my $hostile_sql_literal = $hostile) =~ s/'/''/g;
my $slow_sql = q{SELECT pg_sleep(CASE WHEN current_database() = 'slowdb' THEN 2 ELSE 0 END), 1 AS n};
(my $slow_sql_literal = $slow_sql) =~ s/'/''/g;

# Runs the statements in psql, reading stderr as it arrives: returns the events in arrival order, each the
# decoded DETAIL with the time it arrived (arrived_at, seconds since the start), and psql's whole stderr.
sub events_of
{
	my (@statements) = @_;
	my ($stdout, $stderr) = ('', '');
	my @command = ('psql', '-XAtq', '-d', $coordinator->connstr('postgres'));
	push @command, '-c', $_ for @statements;
	my $start = time;
	my $handle = IPC::Run::start(\@command, '>', \$stdout, '2>', \$stderr);
	my (@events, $seen);
	my $consume = sub {
		while ($stderr =~ /\G.*?NOTICE:  multidb progress: (\w+)\nDETAIL:  ([^\n]*)\n/gcs)
		{
			my ($name, $json) = ($1, $2);
			my $event = eval { decode_json($json) };
			push @events, { notice => $name, json => $json, parsed => $event, arrived_at => time - $start };
			$seen = pos($stderr);
		}
		pos($stderr) = $seen if defined $seen;
	};
	while ($handle->pumpable)
	{
		$handle->pump_nb;
		$consume->();
		usleep(5_000);
	}
	$handle->finish;
	$consume->();
	return (\@events, $stderr, $stdout);
}

sub check_seq
{
	my ($events, $label) = @_;
	is_deeply([ map { $_->{parsed} ? $_->{parsed}{seq} : -1 } @$events ], [ 1 .. scalar @$events ],
		"$label: every DETAIL parses and seq counts 1, 2, 3, ...");
	is(scalar(grep { !$_->{parsed} || $_->{parsed}{event} ne $_->{notice} } @$events), 0,
		"$label: each NOTICE names its event");
	return;
}

for my $mode ([ 'in the backend', '' ], [ 'with background workers', 'SET multidb.keep_connections = off; ' ])
{
	my ($label, $setting) = @$mode;
	my ($events, $stderr) = events_of("${setting}SET multidb.progress = on",
		"SELECT count(*) FROM multidb.fanout('$slow_sql_literal', ARRAY['fast', '$hostile_sql_literal'])");
	check_seq($events, $label);
	# rows events may come between a database's started and done (every 10,000 rows or second): not counted here
	my @order = map { $_->{parsed}{event} . ':' . ($_->{parsed}{database} // '') } grep { $_->{parsed}{event} ne 'rows' } @$events;
	is_deeply(\@order, [ 'started:fast', "started:$hostile", 'done:fast', "done:$hostile", 'end:' ],
		"$label: started, started, the fast one done, the slow one done, end") or diag($stderr);
	my ($slow_started) = grep { $_->{parsed}{event} eq 'started' && $_->{parsed}{database} eq $hostile } @$events;
	my ($fast_done) = grep { $_->{parsed}{event} eq 'done' && $_->{parsed}{database} eq 'fast' } @$events;
	my ($slow_done) = grep { $_->{parsed}{event} eq 'done' && $_->{parsed}{database} eq $hostile } @$events;
	ok($slow_started && $slow_done && $slow_done->{arrived_at} - $slow_started->{arrived_at} > 1.5,
		sprintf("$label: the slow database's started arrived while it ran, %.2f s before its done",
			$slow_done ? $slow_done->{arrived_at} - $slow_started->{arrived_at} : -1));
	ok($fast_done && $slow_done->{arrived_at} - $fast_done->{arrived_at} > 1.5,
		"$label: ... and so did the fast one's done");
	is($slow_done->{parsed}{rows}, 1, "$label: done carries the rows");
	ok($slow_done->{parsed}{ms} >= 1900, "$label: ... and the time ($slow_done->{parsed}{ms} ms)");
	is_deeply([ @{ $events->[-1]{parsed} }{qw(rows status)} ], [ 2, 'ok' ], "$label: end carries the total rows and ok");
}

# Off (the default): no progress NOTICE at all.
my ($events, $stderr) = events_of("SELECT count(*) FROM multidb.fanout('SELECT 1', ARRAY['fast'])");
is(scalar @$events, 0, 'multidb.progress off: no NOTICE');

# rows events as batches arrive, 10,000 rows apart at least (the batches grow while quick, from 1,000 rows).
($events) = events_of('SET multidb.progress = on',
	q{SELECT count(*) FROM multidb.fanout('SELECT g FROM generate_series(1, 100000) g', ARRAY['fast'])});
my @rows = map { $_->{parsed}{rows} } grep { $_->{parsed}{event} eq 'rows' } @$events;
my @gaps = map { $rows[$_] - $rows[ $_ - 1 ] } 1 .. $#rows;
ok(@rows >= 2 && $rows[0] >= 10000 && $rows[0] < 100000 && !(grep { $_ < 10000 } @gaps),
	"rows events as the rows arrive (@rows)");


# A failure under on_error = warn: an error event, and the end is partial; the guard's refusal: refused.
($events, $stderr) = events_of('SET multidb.progress = on; SET multidb.on_error = warn',
	"SELECT count(*) FROM multidb.fanout('SELECT 1 / (current_database() = ''postgres'')::int AS n', ARRAY['fast', '$hostile_sql_literal'])");
my ($error) = grep { $_->{parsed}{event} eq 'error' } @$events;
is_deeply([ @{ $error->{parsed} }{qw(database sqlstate)} ], [ $hostile, '22012' ], 'a failed database: an error event with its SQLSTATE');
is($events->[-1]{parsed}{status}, 'partial', '... and the end says partial');
($events, $stderr) = events_of('SET multidb.progress = on',
	q{SELECT count(*) FROM multidb.fanout('DELETE FROM items', ARRAY['fast'])});
is_deeply([ map { $_->{parsed}{event} } @$events ], ['refused'], 'the guard refuses: one refused event, then the ERROR');
like($stderr, qr/ERROR:  multidb refused/, '... the ERROR as before');

# run_plan: the plan first (hostile SQL kept exactly), the combine step, the end.
my $hostile_statement = q|SELECT 'a"}\n' \|\| chr(10) \|\| '| . chr(0xfc) . q|' AS "we""ird"|;
my $plan = encode_json({ queries => [ { database => 'fast', sql => $hostile_statement } ],
		combine => 'SELECT count(*) AS n FROM fast' });
(my $plan_literal = $plan) =~ s/'/''/g;
($events, $stderr) = events_of('SET multidb.progress = on', "SELECT count(*) FROM multidb.run_plan('$plan_literal')");
check_seq($events, 'run_plan');
is_deeply([ map { $_->{parsed}{event} } @$events ], [qw(plan started done combine end)],
	'run_plan: plan, started, done, combine, end') or diag($stderr);
is($events->[0]{parsed}{queries}[0]{sql}, $hostile_statement, '... the plan\'s SQL comes back exactly from the JSON');
is($events->[3]{parsed}{rows}, 1, '... the combine event carries its rows');
unlike(join('', map { $_->{json} } @$events), qr/[^\x00-\x7f]/, '... and every DETAIL is ASCII');

# compare: both sides' lanes and the end.
($events, $stderr) = events_of('SET multidb.progress = on',
	"SELECT count(*) FROM multidb.compare('SELECT 1 AS x', 'fast', '$hostile_sql_literal')");
check_seq($events, 'compare');
is_deeply([ map { $_->{parsed}{event} } grep { $_->{parsed}{event} ne 'rows' } @$events ], [qw(started started done done end)],
	'compare: started, started, done, done, end') or diag($stderr);

# A plan the guard refuses: a refused event naming the database, then the ERROR.
my $bad_plan = encode_json({ queries => [ { database => 'fast', sql => 'DELETE FROM items' } ] });
($events, $stderr) = events_of('SET multidb.progress = on', "SELECT count(*) FROM multidb.run_plan('$bad_plan')");
is_deeply([ map { $_->{parsed}{event} . ':' . $_->{parsed}{database} } @$events ], ['refused:fast'],
	'run_plan of a refused statement: one refused event naming the database') or diag($stderr);

# An ask through the scripted LLM: plan, then the databases, then end with the ask's status.
my $llm = MultidbLlm->new(rules => [
		{ match => 'column "nosuch" does not exist', reply => encode_json({
				queries => [ { database => 'fast', sql => 'SELECT count(*) AS n FROM items' } ], explanation => 'Fixed.' }) },
		{ match => 'repair lane', reply => encode_json({
				queries => [ { database => 'fast', sql => 'SELECT nosuch FROM items' } ], explanation => 'Broken.' }) },
		{ match => 'both lanes', reply => encode_json({
				queries => [ { database => 'fast', sql => 'SELECT 1 AS n' }, { database => $hostile, sql => $slow_sql } ],
				explanation => 'Both.' }) } ], default => 'no scripted reply');
$coordinator->safe_psql('postgres', "
	CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm
	  OPTIONS (provider 'openai', url 'http://127.0.0.1:" . $llm->port . "/v1', model 'stub-model', timeout '5s');
	CREATE USER MAPPING FOR PUBLIC SERVER llm OPTIONS (api_key 'sk-test');");
($events, $stderr) = events_of('SET multidb.progress = on',
	"SELECT count(*) FROM multidb.ask('How are both lanes?', connections => ARRAY['fast', '$hostile_sql_literal'])");
check_seq($events, 'ask');
my @ask_events = grep { $_->{parsed}{event} ne 'rows' } @$events;
is_deeply([ map { $_->{parsed}{event} . ':' . ($_->{parsed}{database} // '') } @ask_events ],
	[ 'plan:', 'started:fast', "started:$hostile", 'done:fast', "done:$hostile", 'end:' ],
	'ask: plan, started, started, done, done, end') or diag($stderr);
is($events->[0]{parsed}{queries}[1]{database}, $hostile, '... the plan names the databases');
ok($ask_events[4]{arrived_at} - $ask_events[0]{arrived_at} > 1.5, '... the plan arrived while the slow database ran');
is($events->[-1]{parsed}{status}, 'ok', '... and the end says ok');

# A repair round: the failure, the repair, the repaired plan, its lane, an ok end.
($events, $stderr) = events_of('SET multidb.progress = on; SET multidb.repair_error_detail = full',
	"SELECT count(*) FROM multidb.ask('How is the repair lane?', connections => ARRAY['fast'])");
check_seq($events, 'ask with a repair');
is_deeply([ map { $_->{parsed}{event} } grep { $_->{parsed}{event} ne 'rows' } @$events ],
	[qw(plan started error repair plan started done end)], 'ask with a repair: plan, started, error, repair, plan, started, done, end')
  or diag($stderr);
my ($repair) = grep { $_->{parsed}{event} eq 'repair' } @$events;
is_deeply([ @{ $repair->{parsed} }{qw(round database sqlstate)} ], [ 1, 'fast', '42703' ], '... the repair names its round, database and SQLSTATE');
is($events->[-1]{parsed}{status}, 'ok', '... and the end says ok');
done_testing();
