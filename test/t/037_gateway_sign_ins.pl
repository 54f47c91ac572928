# multidb-web's browser sign-ins live in multidb's table, not in a gateway's memory: two gateways on one
# coordinator serve the same cookie, a restarted gateway still knows it, sign-out at one gateway ends it at the
# other at once, --session-ttl expires it on both (the database's clock) and expired rows are purged; the table
# holds the token's SHA-256, never the token; a user in psql can neither read the table nor mint a sign-in (42501);
# an authenticator without EXECUTE on the sign-in functions is refused at start; the coordinator down is 503.
use strict;
use warnings;

use IPC::Run;
use JSON::PP;
use MultidbCluster;
use MultidbGateway;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $coordinator = start_coordinator();
my $superuser = $coordinator->safe_psql('postgres', 'SELECT current_user');

# The set-up docs/security.md gives, with the grant of the sign-in functions to the authenticator.
$coordinator->safe_psql('postgres', q{
	CREATE ROLE multidb_web NOLOGIN;
	CREATE ROLE authenticator LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS PASSWORD 'authpw';
	CREATE ROLE alice LOGIN PASSWORD 'alice-pw' IN ROLE multidb_web;
	CREATE ROLE bob LOGIN PASSWORD 'bob-pw' IN ROLE multidb_web;
	GRANT alice, bob TO authenticator;
	GRANT EXECUTE ON FUNCTION multidb.open_web_sign_in, multidb.web_sign_in_role, multidb.end_web_sign_in
	   TO authenticator;
});
open my $hba, '>', $coordinator->data_dir . '/pg_hba.conf' or die "pg_hba.conf: $!";
print $hba "local all $superuser trust\nlocal all all scram-sha-256\n";
close $hba;
$coordinator->reload;

my $program = gateway_program();
my $conninfo = authenticator_conninfo($coordinator);

# start_gateway($port, @flags): a gateway on 127.0.0.1:$port (a free one when undef); its handle and URL.
sub start_gateway
{
	my ($port, @flags) = @_;
	my $g = launch_gateway(port => $port, flags => [ '--database', $conninfo, @flags ]);
	return ($g->{handle}, $g->{url}, $g->{port});
}

# Signs role in at url; returns the cookie ("multidb_session=<64 hex digits>").
sub sign_in
{
	my ($url, $role, $password) = @_;
	my ($status, $body, $headers) = curl('-X', 'POST', "$url/api/auth/login", '-d', qq({"role": "$role", "password": "$password"}));
	is($status, 200, "$role signs in at $url");
	my ($cookie) = $headers =~ /Set-Cookie: (multidb_session=[0-9a-f]{64})/i;
	return $cookie // '';
}

# Who the cookie is at url: (status, role).
sub me
{
	my ($url, $cookie) = @_;
	my ($status, $body) = curl('-b', $cookie, "$url/api/auth/me");
	return ($status, ref $body ? $body->{role} // '' : '');
}

my ($gw_a, $url_a, $port_a) = start_gateway(undef);
my ($gw_b, $url_b) = start_gateway(undef);

# 1. Signed in at A, the cookie works at B.
my $cookie = sign_in($url_a, 'alice', 'alice-pw');
is_deeply([ me($url_a, $cookie) ], [ 200, 'alice' ], 'the cookie works at the gateway that made it');
is_deeply([ me($url_b, $cookie) ], [ 200, 'alice' ], '... and at a second gateway on the same coordinator');
my ($status, $body) = curl('-b', $cookie, "$url_b/api/health");
is($body->{role}, 'alice', '... where requests run as its role');

# 2. A restarted gateway still knows it.
$gw_a->kill_kill;
($gw_a, $url_a) = start_gateway($port_a);
is_deeply([ me($url_a, $cookie) ], [ 200, 'alice' ], 'after gateway A restarts, the cookie still works there');

# 3. Sign-out at B ends a sign-in made at A, at A at once (nothing cached).
$cookie = sign_in($url_a, 'alice', 'alice-pw');
is((me($url_a, $cookie))[0], 200, 'a new sign-in at A works there');
($status) = curl('-b', $cookie, '-X', 'POST', "$url_b/api/auth/logout", '-H', 'X-Multidb-CSRF: 1', '-d', '');
is($status, 204, 'sign-out at gateway B');
is((me($url_a, $cookie))[0], 401, '... and the cookie is 401 at gateway A');
is((me($url_b, $cookie))[0], 401, '... and at B');

# 4. What the table holds: the token's SHA-256, the role, the times; never the token.
my $cookie2 = sign_in($url_b, 'bob', 'bob-pw');
my ($token2) = $cookie2 =~ /=([0-9a-f]{64})/;
is($coordinator->safe_psql('postgres', "SELECT role || ' ' || (expires_at - created_at)::text FROM multidb.web_sign_ins
	  WHERE token_hash = sha256(convert_to('$token2', 'UTF8'))"), 'bob 08:00:00',
	'the table keeps the SHA-256 of the token, the role and an expiry --session-ttl after it was made');
is($coordinator->safe_psql('postgres', "SELECT count(*) FROM multidb.web_sign_ins t
	  WHERE strpos(t::text, '$token2') > 0 OR strpos(encode(t.token_hash, 'escape'), '$token2') > 0"), '0',
	'... and nowhere the token itself');
my ($ended) = $cookie =~ /=([0-9a-f]{64})/;
is($coordinator->safe_psql('postgres', "SELECT count(*) FROM multidb.web_sign_ins
	  WHERE token_hash = sha256(convert_to('$ended', 'UTF8'))"), '0', 'the ended sign-in is gone from the table');

# 5. A user in psql as their own role can neither read the table nor mint or look up a sign-in.
sub psql_as_bob
{
	my ($sql) = @_;
	my ($out, $err) = ('', '');
	local $ENV{PGPASSWORD} = 'bob-pw';
	IPC::Run::run([ 'psql', '-X', '-At', '-h', $coordinator->host, '-p', $coordinator->port, '-U', 'bob', '-d', 'postgres',
		'-v', 'VERBOSITY=verbose', '-c', $sql ], '>', \$out, '2>', \$err);
	return $out . $err;
}
like(psql_as_bob('SELECT * FROM multidb.web_sign_ins'), qr/ERROR:  42501: permission denied for table web_sign_ins/,
	'bob cannot read the sign-ins table (42501)');
like(psql_as_bob(q{SELECT multidb.open_web_sign_in(sha256('x'), 'alice', 60)}),
	qr/ERROR:  42501: permission denied for function open_web_sign_in/, 'bob cannot mint a sign-in for alice (42501)');
like(psql_as_bob("SELECT multidb.web_sign_in_role(sha256(convert_to('$token2', 'UTF8')))"),
	qr/ERROR:  42501: permission denied for function web_sign_in_role/, '... nor look one up (42501)');
like(psql_as_bob("SELECT multidb.end_web_sign_in(sha256(convert_to('$token2', 'UTF8')))"),
	qr/ERROR:  42501: permission denied for function end_web_sign_in/, '... nor end one (42501)');
# Granted EXECUTE by mistake, bob still cannot mint a sign-in for a role he cannot become.
$coordinator->safe_psql('postgres', 'GRANT EXECUTE ON FUNCTION multidb.open_web_sign_in TO bob');
like(psql_as_bob(q{SELECT multidb.open_web_sign_in(sha256('x'), 'alice', 60)}),
	qr/ERROR:  42501: role "bob" may not open a sign-in of role "alice"/,
	'even with EXECUTE, bob cannot mint a sign-in for alice (42501)');
$coordinator->safe_psql('postgres', 'REVOKE EXECUTE ON FUNCTION multidb.open_web_sign_in FROM bob');
is((me($url_a, $cookie2))[0], 200, 'bob\'s own sign-in is untouched');

# 6. --session-ttl: the sign-in ends on both gateways when it expires, and expired rows are purged.
my ($gw_c, $url_c) = start_gateway(undef, '--session-ttl', '2');
my ($gw_d, $url_d) = start_gateway(undef, '--session-ttl', '2');
my $short = sign_in($url_c, 'alice', 'alice-pw');
is((me($url_d, $short))[0], 200, 'a 2-second sign-in works at the other gateway');
sleep 3;
is((me($url_c, $short))[0], 401, '... and after 2 s it is 401 at the gateway that made it');
is((me($url_d, $short))[0], 401, '... and at the other');
sign_in($url_d, 'bob', 'bob-pw');
is($coordinator->safe_psql('postgres', 'SELECT count(*) FROM multidb.web_sign_ins WHERE expires_at <= now()'), '0',
	'the next sign-in purged the expired rows');

# A role taken out of multidb_web loses its sign-ins at its next request (the look-up checks the role again).
my $revoked = sign_in($url_a, 'alice', 'alice-pw');
$coordinator->safe_psql('postgres', 'REVOKE multidb_web FROM alice');
is((me($url_a, $revoked))[0], 401, 'alice taken out of multidb_web: her cookie is 401 at once, where she signed in');
$coordinator->safe_psql('postgres', 'GRANT multidb_web TO alice');

# 7. The coordinator down: a cookie request is 503, and the sign-in works again once it is back.
$coordinator->stop('fast');
($status, $body) = curl('-b', $cookie2, "$url_a/api/auth/me");
is($status, 503, 'with the coordinator down, a cookie request is 503');
is($body->{error}{sqlstate}, '08006', '... with SQLSTATE 08006');
$coordinator->start;
is((me($url_a, $cookie2))[0], 200, '... and the sign-in works again once it is back');

# 8. An authenticator that may not run the sign-in functions is refused at start, saying what to grant.
$coordinator->safe_psql('postgres', 'REVOKE EXECUTE ON FUNCTION multidb.web_sign_in_role FROM authenticator');
{
	my ($out, $err) = ('', '');
	IPC::Run::run([ $program, '--listen', '127.0.0.1:1', '--database', $conninfo ], '>', \$out, '2>', \$err);
	isnt($? >> 8, 0, 'an authenticator without EXECUTE on the sign-in functions is refused at start');
	like($err, qr/GRANT EXECUTE ON FUNCTION multidb.open_web_sign_in, multidb.web_sign_in_role, multidb.end_web_sign_in TO authenticator/,
		'... saying what to grant');
}

$_->kill_kill for ($gw_a, $gw_b, $gw_c, $gw_d);
done_testing();
