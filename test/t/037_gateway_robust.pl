# multidb-web under load and bad input, against real clusters: 100 clients that send a request header one byte a
# second and 20 that send a body that way hold no worker thread (a normal client is answered at once while they
# trickle) and are each closed once --header-timeout or --body-timeout runs out; idle keep-alive connections
# hold no thread either. A frozen coordinator (SIGSTOP) holds no request past --coordinator-timeout: the request
# answers (503/504, JSON) within the bound, and after SIGCONT the gateway serves again by itself.
use strict;
use warnings;

use IO::Select;
use IO::Socket::INET;
use IPC::Run;
use JSON::PP;
use MultidbCluster;
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
	GRANT USAGE ON FOREIGN SERVER shop TO alice;
	CREATE USER MAPPING FOR alice SERVER shop OPTIONS (user 'reader', password 'secret');
});
open my $hba, '>', $coordinator->data_dir . '/pg_hba.conf' or die "pg_hba.conf: $!";
print $hba "local all $superuser trust\nlocal all all scram-sha-256\n";
close $hba;
$coordinator->reload;

my $bindir = `pg_config --bindir`;
chomp $bindir;
my $program = -x "$bindir/multidb-web" ? "$bindir/multidb-web" : 'multidb-web';
my $conninfo = 'host=' . $coordinator->host . ' port=' . $coordinator->port
  . ' dbname=postgres user=authenticator password=authpw';

# Starts a gateway with these flags (and variables); returns its handle, port, base URL and stderr.
sub start_gateway
{
	my ($env, @flags) = @_;
	my $port = PostgreSQL::Test::Cluster::get_free_port();
	my ($out, $err) = ('', '');
	local %ENV = (%ENV, %$env);
	my $handle = IPC::Run::start([ $program, '--listen', "127.0.0.1:$port", '--database', $conninfo,
			'--auth-delay', '0', @flags ], '>', \$out, '2>', \$err);
	my $url = "http://127.0.0.1:$port";
	for (1 .. 100)
	{
		last if `curl -s -o /dev/null -w '%{http_code}' $url/api/health` eq '200';
		usleep(100_000);
	}
	return ($handle, $port, $url, \$err);
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

done_testing();
