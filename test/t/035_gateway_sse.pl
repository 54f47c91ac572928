# multidb-web's live progress over HTTP (Server-Sent Events) and cancelling, against real clusters and the
# scripted LLM: an ask with Accept: text/event-stream streams its run id, the progress events in order and as
# they happen (the slow database's started long before its done), every data line JSON, then result; the plan
# event leaves the gateway within 50 ms of the coordinator sending it (its NOTICE's time in the server log
# against the event's arrival at the client, one clock); a reader that disconnects mid-ask, and DELETE
# /api/runs/{id}, cancel the ask on the coordinator (its backend idle again, the remote's statement gone, the
# history row cancelled) and the gateway's connection serves the next request; another role's DELETE is 404;
# --per-role-limit answers 429 beyond it (a cancel is not held to it); an ask in a chat session streams too;
# an answer's columns come in the statement's order, streamed or not.
use strict;
use warnings;

use IPC::Run;
use JSON::PP;
use MultidbCluster;
use MultidbGateway;
use MultidbLlm;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use Time::Local qw(timegm);

my $remote = start_remote('lanes');
$remote->safe_psql('postgres', 'CREATE DATABASE slowdb; GRANT CONNECT ON DATABASE slowdb TO reader');
my $coordinator = start_coordinator();
# The NOTICEs go to the server log too, with their time, for the 50 ms check.
$coordinator->append_conf('postgresql.conf', "log_min_messages = notice\nlog_line_prefix = '%m [%p] '\nlog_timezone = 'UTC'\n");
$coordinator->reload;
my $superuser = $coordinator->safe_psql('postgres', 'SELECT current_user');
add_connection($coordinator, 'fast', $remote);
add_connection($coordinator, 'slow', $remote, dbname => 'slowdb');

$coordinator->safe_psql('postgres', q{
	CREATE ROLE multidb_web NOLOGIN;
	CREATE ROLE authenticator LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS PASSWORD 'authpw';
	CREATE ROLE alice LOGIN PASSWORD 'alice-pw' IN ROLE multidb_web;
	CREATE ROLE bob LOGIN PASSWORD 'bob-pw' IN ROLE multidb_web;
	GRANT alice, bob TO authenticator;
	GRANT EXECUTE ON FUNCTION multidb.open_web_sign_in, multidb.web_sign_in_role, multidb.end_web_sign_in TO authenticator;
	GRANT USAGE ON FOREIGN SERVER fast, slow TO alice, bob;
	CREATE USER MAPPING FOR alice SERVER fast OPTIONS (user 'reader', password 'secret');
	CREATE USER MAPPING FOR alice SERVER slow OPTIONS (user 'reader', password 'secret');
	CREATE USER MAPPING FOR bob SERVER fast OPTIONS (user 'reader', password 'secret');
	CREATE USER MAPPING FOR bob SERVER slow OPTIONS (user 'reader', password 'secret');
	ALTER ROLE alice SET multidb.max_repairs = 0;
});
open my $hba, '>', $coordinator->data_dir . '/pg_hba.conf' or die "pg_hba.conf: $!";
print $hba "local all $superuser trust\nlocal all all scram-sha-256\n";
close $hba;
$coordinator->reload;

my $plan_of = sub {
	my ($seconds) = @_;
	encode_json({ queries => [ { database => 'fast', sql => 'SELECT 1 AS n' },
			{ database => 'slow', sql => "SELECT pg_sleep($seconds), 2 AS n" } ],
		explanation => 'One fast database, one slow.' });
};
my $llm = MultidbLlm->new(rules => [
		{ match => 'two lanes', reply => $plan_of->(2) },
		{ match => 'a long wait', reply => $plan_of->(60) },
		# Columns named against the alphabet: the answer lists them as the statements do, not as jsonb sorts keys.
		{ match => 'column order', reply => encode_json({
				queries => [ { database => 'fast', sql => 'SELECT 1 AS z, 2 AS a' },
					{ database => 'slow', sql => 'SELECT 3 AS z, 4 AS a' } ],
				explanation => 'Columns against the alphabet.' }) },
		{ match => 'combined order', reply => encode_json({
				queries => [ { database => 'fast', sql => 'SELECT 1 AS z, 2 AS a' },
					{ database => 'slow', sql => 'SELECT 3 AS z, 4 AS a' } ],
				combine => 'SELECT sum(z) AS zz, max(a) AS aa, count(*) AS b FROM (SELECT * FROM fast UNION ALL SELECT * FROM slow) t',
				explanation => 'Combined columns against the alphabet.' }) } ],
	default => 'no scripted reply');
$coordinator->safe_psql('postgres', "
	CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm
	  OPTIONS (provider 'openai', url 'http://127.0.0.1:" . $llm->port . "/v1', model 'stub-model', timeout '10s');
	CREATE USER MAPPING FOR PUBLIC SERVER llm OPTIONS (api_key 'sk-test');
	GRANT USAGE ON FOREIGN SERVER llm TO alice, bob;");

my $launched = launch_gateway(flags => [ '--database', authenticator_conninfo($coordinator),
		'--pool-size', '4', '--per-role-limit', '2', '--max-streams', '4', '--auth-delay', '0' ]);
my ($gateway, $url, $port, $gw_err) = @$launched{qw(handle url port err)};

# Starts a streamed ask with curl -N; returns a reader: ->() pumps and returns the events so far, each
# {event, data (decoded), raw, at (arrival time)}.
sub start_stream
{
	my ($role, $question) = @_;
	my ($out, $err) = ('', '');
	my $body = encode_json({ question => $question, connection_ids => [ 'fast', 'slow' ] });
	my $handle = IPC::Run::start([ 'curl', '-s', '-N', '-D', '/dev/stderr', '-u', $role, '-H', 'Accept: text/event-stream',
			'-H', 'Content-Type: application/json', '-d', $body, "$url/api/multi-query/" ], '>', \$out, '2>', \$err);
	my (@events, $buffer);
	$buffer = '';
	my $read = sub {
		$handle->pump_nb if $handle->pumpable;
		$buffer .= $out;
		$out = '';
		while ($buffer =~ s/\A(.*?)\n\n//s)
		{
			my $block = $1;
			my ($name) = $block =~ /^event: (.*)$/m;
			my ($data) = $block =~ /^data: (.*)$/m;
			next unless defined $name;
			push @events, { event => $name, raw => $data, data => eval { decode_json($data) }, at => time };
		}
		return \@events;
	};
	return ($handle, $read, \$err);
}

sub wait_for
{
	my ($read, $what, $limit) = @_;
	my $start = time;
	while (time - $start < $limit)
	{
		my ($hit) = grep { $what->($_) } @{ $read->() };
		return $hit if $hit;
		usleep(2_000);
	}
	return undef;
}

# The slow database's statements running on the remote (multidb reads through a cursor: the active statement is
# its FETCH).
sub remote_sleepers
{
	return $remote->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE datname = 'slowdb' AND state = 'active'"
		  . " AND pid <> pg_backend_pid()");
}

sub coordinator_asks
{
	return $coordinator->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%multidb.ask(%'"
		  . " AND pid <> pg_backend_pid()");
}

sub poll_until
{
	my ($check, $limit) = @_;
	my $start = time;
	while (time - $start < $limit)
	{
		return time - $start if $check->();
		usleep(50_000);
	}
	return undef;
}

sub history_status
{
	my ($question) = @_;
	return $coordinator->safe_psql('postgres',
		"SELECT status FROM multidb.query_history WHERE question = '$question' ORDER BY id DESC LIMIT 1");
}

# 1. Events in order, as they happen, JSON, ending with result.
{
	my $log_start = -s $coordinator->logfile;
	my ($handle, $read, $err) = start_stream('alice:alice-pw', 'two lanes');
	my $result = wait_for($read, sub { $_[0]{event} eq 'result' || $_[0]{event} eq 'error' }, 30);
	$handle->finish;
	my @events = @{ $read->() };
	like($$err, qr{^HTTP/1\.1 200}m, 'a streamed ask answers 200');
	like($$err, qr{^Content-Type: text/event-stream}mi, '... as text/event-stream');
	like($$err, qr{^Cache-Control: no-cache}mi, '... not to be cached');
	my @names = map { $_->{event} } @events;
	is($names[0], 'run', 'the first event is the run id') or diag(join ' ', @names);
	like($events[0]{data}{run_id} // '', qr/^[0-9a-f]{32}$/, '... a random hex id');
	is($names[1], 'plan', 'then the plan');
	is($names[-1], 'result', 'the last event is the result');
	is($names[-2], 'end', '... after the ask\'s end');
	ok(@events >= 8 && !grep({ !defined $_->{data} || ref $_->{data} ne 'HASH' } @events),
		'every data line of the ' . scalar(@events) . ' events is a JSON object');
	my @seqs = map { $_->{data}{seq} } grep { defined $_->{data}{seq} } @events;
	ok(@seqs >= 6, 'the progress events carry seq');
	is_deeply(\@seqs, [ 1 .. scalar @seqs ], 'progress events arrive in order (seq 1, 2, 3, ...)');
	my ($started) = grep { $_->{event} eq 'started' && ($_->{data}{database} // '') eq 'slow' } @events;
	my ($done) = grep { $_->{event} eq 'done' && ($_->{data}{database} // '') eq 'slow' } @events;
	ok($started && $done && $done->{at} - $started->{at} > 1.5,
		sprintf('the slow database\'s started arrived %.2f s before its done',
			$started && $done ? $done->{at} - $started->{at} : -1));
	is_deeply([ sort map { $_->{database_name} // $_->{connection_name} } @{ $events[-1]{data}{database_results} // [] } ],
		[ 'fast', 'slow' ], 'the result is the multi-query JSON, both databases in it')
	  or diag($events[-1]{raw});

	# The plan's NOTICE time in the server log (ms) against the plan event's arrival at the client: one clock.
	my $log = slurp_file($coordinator->logfile, $log_start);
	my ($stamp) = $log =~ /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) UTC \[\d+\] NOTICE:  multidb progress: plan$/m;
	ok($stamp, 'the plan NOTICE is in the server log') or diag($log);
	if ($stamp)
	{
		my ($y, $mo, $d, $h, $mi, $s, $ms) = $stamp =~ /^(\d+)-(\d+)-(\d+) (\d+):(\d+):(\d+)\.(\d+)$/;
		my $sent = timegm($s, $mi, $h, $d, $mo - 1, $y) + $ms / 1000;
		my $gap = $events[1]{at} - $sent;
		ok($gap < 0.050, sprintf('the plan event reached the client %.1f ms after the coordinator sent it', $gap * 1000));
		diag(sprintf('plan NOTICE logged -> plan event at the client: %.1f ms', $gap * 1000));
	}
}

# 1b. Columns in the statement's order (jsonb sorts the rows' keys): in each lane and the combine step's, in the
# streamed result and the plain answer; the done and combine events name them.
{
	my $names = sub { [ map { $_->{name} } @{ $_[0]{columns} // [] } ] };
	my $lanes = sub { [ map { $names->($_) } @{ $_[0]{database_results} // [] } ] };
	my $streamed = sub {
		my ($question) = @_;
		my ($handle, $read) = start_stream('alice:alice-pw', $question);
		my $result = wait_for($read, sub { $_[0]{event} eq 'result' || $_[0]{event} eq 'error' }, 30);
		$handle->finish;
		return ($result ? $result->{data} : {}, $read->());
	};
	my $plain = sub {
		my ($question) = @_;
		my $out = `curl -s -u alice:alice-pw -H 'Content-Type: application/json' -d '{"question": "$question", "connection_ids": ["fast", "slow"]}' $url/api/multi-query/`;
		return eval { decode_json($out) } // { raw => $out };
	};

	my ($answer, $events) = $streamed->('column order');
	is_deeply($lanes->($answer), [ [ 'z', 'a' ], [ 'z', 'a' ] ],
		'streamed: each lane\'s columns in the statement\'s order (z, a)') or diag(encode_json($answer));
	my ($done) = grep { $_->{event} eq 'done' && ($_->{data}{database} // '') eq 'fast' } @$events;
	is_deeply($done && $done->{data}{columns}, [ 'z', 'a' ], '... the done event names them');
	($answer, $events) = $streamed->('combined order');
	is_deeply($names->($answer->{combined} // {}), [ 'zz', 'aa', 'b' ], 'streamed: the combine step\'s too (zz, aa, b)')
	  or diag(encode_json($answer));
	my ($combine) = grep { $_->{event} eq 'combine' } @$events;
	is_deeply($combine && $combine->{data}{columns}, [ 'zz', 'aa', 'b' ], '... the combine event names them');

	$answer = $plain->('column order');
	is_deeply($lanes->($answer), [ [ 'z', 'a' ], [ 'z', 'a' ] ], 'plain answer: each lane\'s columns in order')
	  or diag(encode_json($answer));
	is_deeply($answer->{database_results}[0]{rows}, [ { z => 1, a => 2 } ], '... its rows still objects');
	$answer = $plain->('combined order');
	is_deeply($names->($answer->{combined} // {}), [ 'zz', 'aa', 'b' ], '... and the combine step\'s')
	  or diag(encode_json($answer));
	is_deeply($answer->{combined}{rows}, [ { zz => 4, aa => 4, b => 2 } ], '... its rows unchanged');
}

# 2. A reader that disconnects mid-ask cancels it.
{
	my ($handle, $read, $err) = start_stream('alice:alice-pw', 'a long wait');
	ok(wait_for($read, sub { $_[0]{event} eq 'started' && ($_[0]{data}{database} // '') eq 'slow' }, 20),
		'disconnect: the slow database started');
	ok(defined poll_until(sub { remote_sleepers() == 1 }, 10), '... its statement runs on the remote')
	  or diag($remote->safe_psql('postgres', 'SELECT datname, state, query FROM pg_stat_activity'));
	$handle->kill_kill;
	ok(defined poll_until(sub { coordinator_asks() == 0 }, 10), 'a reader that left: the coordinator\'s ask is cancelled');
	ok(defined poll_until(sub { remote_sleepers() == 0 }, 10), '... the remote\'s statement is gone');
	ok(defined poll_until(sub { history_status('a long wait') eq 'cancelled' }, 10), '... the history row says cancelled')
	  or diag(history_status('a long wait'));
	my $health = `curl -s -u alice:alice-pw $url/api/health`;
	like($health, qr/"role":"alice"/, 'the gateway\'s connections serve the next request');
}

# 3. DELETE /api/runs/{id}: another role's is 404, the owner's cancels.
{
	$coordinator->safe_psql('postgres', 'DELETE FROM multidb.query_history');
	my ($handle, $read, $err) = start_stream('alice:alice-pw', 'a long wait');
	my $run = wait_for($read, sub { $_[0]{event} eq 'run' }, 20);
	my $id = $run ? $run->{data}{run_id} : 'none';
	ok(wait_for($read, sub { $_[0]{event} eq 'started' && ($_[0]{data}{database} // '') eq 'slow' }, 20),
		'DELETE: the slow database started');
	my $bob = `curl -s -o /dev/null -w '%{http_code}' -u bob:bob-pw -X DELETE $url/api/runs/$id`;
	is($bob, '404', 'another role\'s DELETE of the run is 404');
	is(`curl -s -o /dev/null -w '%{http_code}' -u alice:alice-pw -X DELETE $url/api/runs/0123`, '404',
		'a run that does not exist is 404');
	ok(defined poll_until(sub { remote_sleepers() == 1 }, 5), '... and the run goes on');
	my $alice = `curl -s -w '\n%{http_code}' -u alice:alice-pw -X DELETE $url/api/runs/$id`;
	like($alice, qr/202\z/, 'the owner\'s DELETE is 202');
	my $error = wait_for($read, sub { $_[0]{event} eq 'error' || $_[0]{event} eq 'result' }, 10);
	is($error && $error->{event}, 'error', 'the stream ends with an error event');
	is($error && $error->{data}{error}{sqlstate}, '57014', '... the cancelled statement\'s 57014');
	$handle->finish;
	ok(defined poll_until(sub { coordinator_asks() == 0 && remote_sleepers() == 0 }, 10),
		'the coordinator\'s ask and the remote statement are gone');
	ok(defined poll_until(sub { history_status('a long wait') eq 'cancelled' }, 10), '... the history row says cancelled');
	is(`curl -s -o /dev/null -w '%{http_code}' -u alice:alice-pw -X DELETE $url/api/runs/$id`, '404',
		'an ended run is 404');
}

# 4. An ask in a chat session streams the same way; its messages are kept.
{
	my $session = `curl -s -u alice:alice-pw -H 'Content-Type: application/json' -d '{"name": "lanes", "connection_ids": ["fast", "slow"]}' $url/api/chat/sessions`;
	my ($sid) = $session =~ /"id":"([0-9a-f-]{36})"/;
	ok($sid, 'a session') or diag($session);
	my $out = `curl -s -N -u alice:alice-pw -H 'Accept: text/event-stream' -H 'Content-Type: application/json' -d '{"question": "two lanes"}' $url/api/chat/sessions/$sid/messages`;
	my @names = $out =~ /^event: (\w+)$/mg;
	is($names[0], 'run', 'messages: the run id first');
	is($names[1], 'plan', '... the plan');
	is($names[-1], 'result', '... the result last');
	like($out, qr/"chat_session_id":"$sid"/, '... the session\'s answer');
	my $messages = `curl -s -u alice:alice-pw $url/api/chat/sessions/$sid/messages`;
	like($messages, qr/"role":"assistant"/, '... and the conversation kept it');
}

# 5. --per-role-limit 2: a third request of the role is 429 while two run; another role is not held up.
{
	my ($h1, $r1) = start_stream('alice:alice-pw', 'a long wait');
	my ($h2, $r2) = start_stream('alice:alice-pw', 'a long wait');
	ok(wait_for($r1, sub { $_[0]{event} eq 'run' }, 20) && wait_for($r2, sub { $_[0]{event} eq 'run' }, 20),
		'two streams of alice run');
	my $third = `curl -s -w '\n%{http_code}' -u alice:alice-pw $url/api/connections`;
	like($third, qr/429\z/, 'a third request of alice is 429');
	like($third, qr/"per-role-limit|--per-role-limit/, '... a JSON error naming --per-role-limit');
	like(`curl -s -o /dev/null -w '%{http_code}' -u bob:bob-pw $url/api/connections`, qr/^200$/, 'bob is not held up');
	my $id = $r1->()->[0]{data}{run_id};
	is(`curl -s -o /dev/null -w '%{http_code}' -u alice:alice-pw -X DELETE $url/api/runs/$id`, '202',
		'at her limit alice may still cancel a run of hers');
	ok(wait_for($r1, sub { $_[0]{event} eq 'error' }, 10), '... which ends');
	$h1->kill_kill;
	$h2->kill_kill;
	ok(defined poll_until(sub { coordinator_asks() == 0 && remote_sleepers() == 0 }, 15), 'both cancelled when they leave');
	ok(defined poll_until(sub { `curl -s -o /dev/null -w '%{http_code}' -u alice:alice-pw $url/api/connections` eq '200' }, 5),
		'alice may ask again');
}

$gateway->signal('TERM');
$gateway->finish;
done_testing();
