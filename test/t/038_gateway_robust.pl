# multidb-web under load and bad input, against real clusters: 100 clients that send a request header one byte a
# second and 20 that send a body that way hold no worker thread (a normal client is answered at once while they
# trickle) and are each closed once --header-timeout or --body-timeout runs out; idle keep-alive connections
# hold no thread either. A frozen coordinator (SIGSTOP) holds no request past --coordinator-timeout: the request
# answers (503/504, JSON) within the bound, and after SIGCONT the gateway serves again by itself. A gateway
# killed with SIGKILL mid-ask leaves no statement running: its coordinator backend ends within seconds
# (client_connection_check_interval), the remote statement ends long before its 60 s sleep and within
# multidb.statement_timeout, and the session's messages and the ask's history row are whole or absent. Bad
# input: nesting, invalid UTF-8 in a body, a path and a query, a huge number, an empty body, content types: each
# a 400 with a JSON error body (or accepted), never a crash.
use strict;
use warnings;

use IO::Select;
use IO::Socket::INET;
use IPC::Run;
use JSON::PP;
use MultidbCluster;
use MultidbGateway;
use MultidbLlm;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $remote = start_remote('robust_remote');
my $coordinator = start_coordinator();
my $superuser = $coordinator->safe_psql('postgres', 'SELECT current_user');
add_connection($coordinator, 'shop', $remote);
$coordinator->safe_psql('postgres', q{
	CREATE ROLE multidb_web NOLOGIN;
	CREATE ROLE authenticator LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS PASSWORD 'authpw';
	CREATE ROLE alice LOGIN PASSWORD 'alice-pw' IN ROLE multidb_web;
	GRANT alice TO authenticator;
	GRANT EXECUTE ON FUNCTION multidb.open_web_sign_in, multidb.web_sign_in_role, multidb.end_web_sign_in TO authenticator;
	GRANT USAGE ON FOREIGN SERVER shop TO alice;
	CREATE USER MAPPING FOR alice SERVER shop OPTIONS (user 'reader', password 'secret');
});
open my $hba, '>', $coordinator->data_dir . '/pg_hba.conf' or die "pg_hba.conf: $!";
print $hba "local all $superuser trust\nlocal all all scram-sha-256\n";
close $hba;
$coordinator->reload;

my $llm = MultidbLlm->new(rules => [ { match => 'a long wait', reply => encode_json({
				queries => [ { database => 'shop', sql => 'SELECT pg_sleep(60), 1 AS n' } ],
				explanation => 'Waits a minute.' }) } ],
	default => 'no scripted reply');
$coordinator->safe_psql('postgres', "
	CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm
	  OPTIONS (provider 'openai', url 'http://127.0.0.1:" . $llm->port . "/v1', model 'stub-model', timeout '10s');
	CREATE USER MAPPING FOR PUBLIC SERVER llm OPTIONS (api_key 'sk-test');
	GRANT USAGE ON FOREIGN SERVER llm TO alice;
	ALTER ROLE alice SET multidb.statement_timeout = '10s';");

my $conninfo = authenticator_conninfo($coordinator);

# Starts a gateway with these flags (and variables); returns its handle, port, base URL and stderr.
sub start_gateway
{
	my ($env, @flags) = @_;
	my $g = launch_gateway(env => $env, flags => [ '--database', $conninfo, '--auth-delay', '0', @flags ]);
	return ($g->{handle}, $g->{port}, $g->{url}, $g->{err});
}

# (status, seconds) of one request with curl, given up after $limit seconds.
sub timed_request
{
	my ($url, $limit, @args) = @_;
	my $start = time;
	my $status = `curl -s -o /dev/null -m $limit -w '%{http_code}' @args $url`;
	return ($status, time - $start);
}

# 1. Slow clients: 100 connections send a request header one byte a second, 20 send their header at once and
# then a body one byte a second. Neither holds a worker: a normal client is answered within a second all along,
# and each slow connection is closed by the gateway once its deadline (3 s) has run out.
{
	my ($gateway, $port, $url, $err) = start_gateway(
		{ MULTIDB_WEB_HEADER_TIMEOUT => 3, MULTIDB_WEB_BODY_TIMEOUT => 3 }, '--threads', '8', '--max-streams', '2');
	my $head = "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: a-slow-client\r\nAccept: */*\r\n\r\n";
	my $body = '{"name": "a session sent one byte a second"}';
	my $body_head = "POST /api/chat/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
	  . 'Content-Length: ' . length($body) . "\r\n\r\n";
	my (@slow, %closed_after);
	for my $i (1 .. 120)
	{
		my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp', Blocking => 0);
		if (!$sock)
		{
			diag("connection $i: $!");
			next;
		}
		push @slow, { sock => $sock, text => $i <= 100 ? $head : $body_head . $body,
			sent => $i <= 100 ? 0 : length($body_head), kind => $i <= 100 ? 'header' : 'body', opened => time };
	}
	# The body senders send their headers at once.
	$_->{sock}->syswrite(substr($_->{text}, 0, $_->{sent})) for grep { $_->{kind} eq 'body' } @slow;
	is(scalar @slow, 120, '120 slow connections open');
	my ($answered, $slowest, $asked) = (0, 0, 0);
	my $start = time;
	my $second = -1;
	while (time - $start < 9)
	{
		# Every 50 ms: note the connections the gateway closed (an answer, a 408, may come first; the close is
		# what counts).
		for my $c (grep { !exists $closed_after{ $_->{sock} } } @slow)
		{
			while (IO::Select->new($c->{sock})->can_read(0))
			{
				my $n = sysread($c->{sock}, my $buf, 4096);
				next if $n;
				$closed_after{ $c->{sock} } = time - $c->{opened};
				last;
			}
		}
		if (int(time - $start) > $second)
		{
			$second = int(time - $start);
			# One byte a second on every connection still open.
			local $SIG{PIPE} = 'IGNORE';
			for my $c (grep { !exists $closed_after{ $_->{sock} } && $_->{sent} < length $_->{text} } @slow)
			{
				$c->{sent}++ if syswrite($c->{sock}, substr($c->{text}, $c->{sent}, 1));
			}
			# Meanwhile a normal client.
			my ($status, $took) = timed_request("$url/api/health", 5);
			$asked++;
			$answered++ if $status eq '200';
			$slowest = $took if $took > $slowest;
		}
		usleep(50_000);
	}
	is($answered, $asked, "a normal client's $asked requests were all answered while the slow ones trickled");
	ok($slowest < 1, sprintf('... each within a second (the slowest: %.2f s)', $slowest));
	my @header_closed = grep { $_->{kind} eq 'header' && exists $closed_after{ $_->{sock} } } @slow;
	my @body_closed = grep { $_->{kind} eq 'body' && exists $closed_after{ $_->{sock} } } @slow;
	is(scalar @header_closed, 100, 'the gateway closed all 100 connections that sent their header one byte a second');
	is(scalar @body_closed, 20, '... and all 20 that sent their body one byte a second');
	my ($latest) = sort { $b <=> $a } values %closed_after;
	ok(defined $latest && $latest < 4.5, sprintf('... each within 4.5 s of opening (the latest: %.1f s; deadlines 3 s)',
			$latest // -1));
	diag(sprintf('closed after (s): header %s; body %s', join(' ', map { sprintf '%.1f', $closed_after{ $_->{sock} } // -1 } grep { $_->{kind} eq 'header' } @slow[0, 49, 99]), join(' ', map { sprintf '%.1f', $closed_after{ $_->{sock} } // -1 } @slow[100, 119])));
	close $_->{sock} for @slow;

	# Idle keep-alive connections hold no thread: 50 connections that made a request and keep the connection
	# open, and a normal client is still answered at once.
	my @idle;
	for (1 .. 50)
	{
		my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp') or next;
		print $sock "GET /api/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
		push @idle, $sock;
	}
	my ($status, $took) = timed_request("$url/api/health", 5);
	is($status, '200', '50 idle keep-alive connections: a normal client is answered');
	ok($took < 1, sprintf('... at once (%.2f s)', $took));
	close $_ for @idle;

	$gateway->signal('TERM');
	$gateway->finish;
}

# 2. A frozen coordinator: the postmaster and the gateway's backends stopped with SIGSTOP. A request that needs the
# coordinator answers within --coordinator-timeout (3 s) and the 2 s a cancelled statement is given, with a JSON
# error; after SIGCONT the gateway serves again by itself.
{
	my ($gateway, $port, $url, $err) = start_gateway({ MULTIDB_WEB_COORDINATOR_TIMEOUT => 3 },
		'--connect-timeout', '2', '--pool-size', '2');
	is(`curl -s -o /dev/null -w '%{http_code}' $url/api/health`, '200', 'frozen coordinator: the gateway answers first');
	my $backends = $coordinator->safe_psql('postgres',
		"SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE usename = 'authenticator'");
	my ($postmaster) = split /\n/, slurp_file($coordinator->data_dir . '/postmaster.pid');
	my @frozen = ($postmaster, split(/ /, $backends));
	ok(@frozen >= 2, 'the postmaster and the gateway\'s backends: ' . join(' ', @frozen));
	kill 'STOP', @frozen;
	my $start = time;
	my $answer = `curl -s -m 30 -w '\n%{http_code}' $url/api/health`;
	my $took = time - $start;
	my ($status) = $answer =~ /(\d+)\z/;
	like($status // '', qr/^50[34]$/, "a request while the coordinator is frozen answers $status") or diag($answer);
	ok($took < 8, sprintf('... within the bound (%.1f s; --coordinator-timeout 3 s + 2 s)', $took));
	like($answer, qr/"error":\{/, '... with a JSON error');
	# Signing in needs the coordinator too: that is 503 after --connect-timeout, not a wrong password's 401.
	$start = time;
	$answer = `curl -s -m 30 -u alice:alice-pw -w '\n%{http_code}' $url/api/connections`;
	$took = time - $start;
	($status) = $answer =~ /(\d+)\z/;
	is($status // '', '503', 'a Basic sign-in while the coordinator is frozen is 503, not 401') or diag($answer);
	ok($took < 5, sprintf('... within --connect-timeout (%.1f s; 2 s)', $took));
	kill 'CONT', @frozen;
	my $back;
	for (1 .. 100)
	{
		last if ($back = `curl -s -o /dev/null -w '%{http_code}' -m 5 $url/api/health`) eq '200';
		usleep(100_000);
	}
	is($back, '200', 'after SIGCONT the gateway serves again');
	$gateway->signal('TERM');
	$gateway->finish;
}

sub poll_until
{
	my ($check, $limit) = @_;
	my $start = time;
	while (time - $start < $limit)
	{
		return time - $start if $check->();
		usleep(100_000);
	}
	return undef;
}

# 3. A gateway killed with SIGKILL mid-ask (the remote statement sleeping, multidb.statement_timeout 10 s).
{
	my ($gateway, $port, $url, $err) = start_gateway({});
	my $session = `curl -s -u alice:alice-pw -H 'Content-Type: application/json' -d '{"name": "killed", "connection_ids": ["shop"]}' $url/api/chat/sessions`;
	my ($sid) = $session =~ /"id":"([0-9a-f-]{36})"/;
	ok($sid, 'SIGKILL: a session') or diag($session);
	my $ask = IPC::Run::start([ 'curl', '-s', '-u', 'alice:alice-pw', '-H', 'Content-Type: application/json',
			'-d', '{"question": "a long wait"}', "$url/api/chat/sessions/$sid/messages" ], '>', \my $out, '2>', \my $cerr);
	my $remote_sleeping = sub {
		# multidb reads through a cursor: the active statement is its FETCH.
		$remote->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
			  . " AND application_name = 'multidb' AND pid <> pg_backend_pid()");
	};
	my $coordinator_asks = sub {
		$coordinator->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
			  . " AND query LIKE '%multidb.ask(%' AND pid <> pg_backend_pid()");
	};
	ok(defined poll_until(sub { $remote_sleeping->() == 1 }, 20), '... the ask\'s remote statement runs');
	is($coordinator_asks->(), '1', '... and its coordinator backend');
	$gateway->signal('KILL');
	$gateway->finish;
	my $killed = time;
	my $backend_gone = poll_until(sub { $coordinator_asks->() == 0 }, 15);
	ok(defined $backend_gone && $backend_gone < 3,
		sprintf('the coordinator backend of the ask ended %.1f s after the gateway was killed (under 3 s)', $backend_gone // -1));
	my $remote_gone = poll_until(sub { $remote_sleeping->() == 0 }, 20);
	ok(defined $remote_gone && time - $killed < 11,
		sprintf('the remote statement ended %.1f s after the kill (multidb.statement_timeout 10 s)', $remote_gone // -1));
	# Whole: the question and the answer that says how the ask ended, written together (by the history writer in a
	# transaction of its own), or neither.
	my $messages = $coordinator->safe_psql('postgres',
		"SELECT coalesce(string_agg(role || ':' || (content <> '')::text || ':' || (query_id IS NOT NULL)::text, ' ' ORDER BY id), '')"
		  . " FROM multidb.chat_messages WHERE session_id = '$sid'");
	like($messages, qr/^(|user:true:\w+ assistant:true:true)$/,
		"the session's messages of the killed ask are whole or absent ($messages)");
	my $history = $coordinator->safe_psql('postgres',
		"SELECT count(*) || ' ' || coalesce(string_agg(status, ','), '') FROM multidb.query_history"
		  . " WHERE question = 'a long wait' AND (status NOT IN ('cancelled', 'error') OR question IS NULL)");
	is($history, '0 ', 'the ask\'s history row is absent or whole: cancelled or error');
	my ($again, $port2, $url2) = start_gateway({});
	like(`curl -s -u alice:alice-pw $url2/api/chat/sessions/$sid`, qr/"killed"/, 'a new gateway serves the session');
	$again->signal('TERM');
	$again->finish;
}

# 4. Bad input: each refused with 400 and a JSON error (or accepted as JSON), and the gateway alive after all.
{
	my ($gateway, $port, $url, $err) = start_gateway({});
	my $dir = PostgreSQL::Test::Utils::tempdir();
	my $send = sub {
		my ($method, $path, $body, @headers) = @_;
		open my $f, '>:raw', "$dir/body" or die $!;
		print $f $body;
		close $f;
		my $out = '';
		IPC::Run::run([ 'curl', '-s', '-g', '-X', $method, '-u', 'alice:alice-pw', '-w', '\n%{http_code}',
				(map { ('-H', $_) } @headers), (length $body ? ('--data-binary', "\@$dir/body") : ()), "$url$path" ],
			'>', \$out, '2>', \my $e);
		my ($status) = $out =~ /(\d+)\z/;
		$out =~ s/\n?\d+\z//;
		return ($status // 0, eval { decode_json($out) }, $out);
	};
	my $json = 'Content-Type: application/json';
	my @cases = (
		[ 'nesting 40 deep', 'POST', '/api/chat/sessions', '{"name": ' . ('[' x 40) . (']' x 40) . '}', 400, qr/nests deeper/ ],
		[ 'nesting 100,000 deep', 'POST', '/api/chat/sessions', ('[' x 100000) . (']' x 100000), 400, qr/nests deeper/ ],
		[ 'invalid UTF-8 in a body', 'POST', '/api/chat/sessions', qq({"name": "\xff\xfe", "connection_ids": ["shop"]}), 400, qr/UTF-8/ ],
		[ 'a UTF-16 surrogate in a body', 'POST', '/api/chat/sessions', qq({"name": "\xed\xa0\x80", "connection_ids": ["shop"]}), 400, qr/UTF-8/ ],
		[ 'a huge number', 'POST', '/api/chat/sessions', '{"name": "n", "connection_ids": [1e9999]}', 400, qr/not JSON/ ],
		[ 'an empty body', 'POST', '/api/chat/sessions', '', 400, qr/connection_ids/, $json, 'Content-Length: 0' ],
		[ 'a POST without a length', 'POST', '/api/chat/sessions', '', 400, qr/./ ],
		[ 'a body that is not an object', 'POST', '/api/chat/sessions', '"shop"', 400, qr/object/ ],
		[ 'invalid UTF-8 in a path', 'GET', '/api/chat/sessions/%ff%fe', '', 400, qr/UTF-8/ ],
		[ 'invalid UTF-8 in a query', 'GET', '/api/history?session=%c3', '', 400, qr/UTF-8/ ],
		[ 'a multipart body', 'POST', '/api/chat/sessions', "--b\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nx\r\n--b--\r\n", 400, qr/./,
			'Content-Type: multipart/form-data; boundary=b' ],
	);
	for my $case (@cases)
	{
		my ($what, $method, $path, $body, $want, $message, @headers) = @$case;
		my ($status, $decoded, $raw) = $send->($method, $path, $body, @headers ? @headers : ($json));
		is($status, $want, "bad input, $what: $want");
		like($decoded && $decoded->{error} && $decoded->{error}{message} // '', $message, '... a JSON error saying why')
		  or diag(substr($raw, 0, 300));
	}
	# JSON sent as text/plain or as curl -d's form type is still JSON: accepted.
	for my $type ('text/plain', 'application/x-www-form-urlencoded')
	{
		my ($status) = $send->('POST', '/api/chat/sessions', '{"name": "typed", "connection_ids": ["shop"]}', "Content-Type: $type");
		is($status, '201', "a JSON body sent as $type is read as JSON");
	}
	is(`curl -s -o /dev/null -w '%{http_code}' $url/api/health`, '200', 'after all of it the gateway answers');
	$gateway->signal('TERM');
	$gateway->finish;
	is($gateway->result(0) // 0, 0, '... and stops cleanly on SIGTERM');
}

done_testing();
