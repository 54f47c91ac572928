# Non-superusers: USAGE, a user mapping, a password the remote really asked for; nobody reads another
# role's password.
use strict;
use warnings;

use MultidbCluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $guarded = start_remote('guarded');
my $trusting = start_remote('trusting', trust => 1);
my $coordinator = start_coordinator();

$coordinator->safe_psql('postgres', q{
	CREATE ROLE alice LOGIN;
	CREATE ROLE bob LOGIN;
	CREATE SERVER guarded FOREIGN DATA WRAPPER multidb OPTIONS (host '127.0.0.1', dbname 'postgres');
	CREATE SERVER trusting FOREIGN DATA WRAPPER multidb OPTIONS (host '127.0.0.1', dbname 'postgres');
});
$coordinator->safe_psql('postgres', 'ALTER SERVER guarded OPTIONS (ADD port ' . "'" . $guarded->port . "')");
$coordinator->safe_psql('postgres', 'ALTER SERVER trusting OPTIONS (ADD port ' . "'" . $trusting->port . "')");

sub as_role
{
	my ($role, $sql) = @_;
	my ($ret, $stdout, $stderr) = $coordinator->psql('postgres', "SET ROLE $role; $sql",
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	return ($ret, $stdout, $stderr);
}
my $query = "SELECT source_db, row_data->>'n' FROM multidb.fanout('SELECT count(*) AS n FROM items', ARRAY['guarded'])";

my ($ret, $stdout, $stderr) = as_role('alice', $query);
like($stderr, qr/ERROR:  42501: permission denied for connection "guarded"/, 'no USAGE on the server: refused');

$coordinator->safe_psql('postgres', 'GRANT USAGE ON FOREIGN SERVER guarded, trusting TO alice, bob');
($ret, $stdout, $stderr) = as_role('alice', $query);
like($stderr, qr/ERROR:  42704: connection "guarded" has no user mapping for role "alice".*HINT:  .*CREATE USER MAPPING FOR alice SERVER guarded OPTIONS/s,
	'no user mapping: refused, naming the connection and the role, with the statement that makes one');

$coordinator->safe_psql('postgres', "CREATE USER MAPPING FOR alice SERVER guarded OPTIONS (user 'reader')");
($ret, $stdout, $stderr) = as_role('alice', $query);
like($stderr, qr/ERROR:  2F003: connection "guarded" needs a password in the user mapping for role "alice"/,
	'a non-superuser without a password is refused before connecting');
is(remote_sessions_of_ours($guarded), '0', 'and nothing reached the remote');

# The superuser may connect without a password (here over TCP trust); a non-superuser may not, even with
# one in the mapping, when the remote never asked for it.
$coordinator->safe_psql('postgres', "CREATE USER MAPPING FOR alice SERVER trusting OPTIONS (user 'reader', password 'not-asked')");
($ret, $stdout, $stderr) = as_role('alice',
	"SELECT * FROM multidb.fanout('SELECT count(*) AS n FROM items', ARRAY['trusting'])");
like($stderr, qr/ERROR:  2F003: connection "trusting": the remote server did not ask for the password/,
	'a non-superuser cannot ride on trust authentication');
$coordinator->safe_psql('postgres', "CREATE USER MAPPING FOR CURRENT_USER SERVER trusting OPTIONS (user 'reader')");
is($coordinator->safe_psql('postgres', "SELECT row_data->>'n' FROM multidb.fanout('SELECT count(*) AS n FROM items', ARRAY['trusting'])"),
	'100', 'a superuser may');

# With a real password alice gets her rows.
$coordinator->safe_psql('postgres', "ALTER USER MAPPING FOR alice SERVER guarded OPTIONS (ADD password 'secret')");
($ret, $stdout, $stderr) = as_role('alice', $query);
is($stdout, 'guarded|100', 'with a password the non-superuser gets the rows');

# A wrong password fails with 08001 and the message does not carry it.
$coordinator->safe_psql('postgres', "CREATE USER MAPPING FOR bob SERVER guarded OPTIONS (user 'reader', password 'Wr0ngPassw0rd')");
($ret, $stdout, $stderr) = as_role('bob', $query);
like($stderr, qr/ERROR:  08001: connection "guarded": could not connect.*password authentication failed/s,
	'a wrong password: 08001');
unlike($stderr, qr/Wr0ngPassw0rd|secret/, 'no password in the error');

# Nobody reads another role's password.
($ret, $stdout, $stderr) = as_role('bob',
	"SELECT usename, coalesce(array_to_string(umoptions, ','), '<hidden>') FROM pg_user_mappings "
	  . "WHERE srvname = 'guarded' AND usename = 'alice'");
is($stdout, 'alice|<hidden>', "bob cannot read alice's user mapping options");
($ret, $stdout, $stderr) = as_role('bob', 'SELECT * FROM multidb.connections');
unlike($stdout, qr/secret/, 'multidb.connections shows no password');
like($stdout, qr/^guarded\|127\.0\.0\.1\|/m, 'but does list the connection');
($ret, $stdout, $stderr) = as_role('bob', "SELECT umoptions FROM pg_catalog.pg_user_mapping");
like($stderr, qr/permission denied/, 'the raw catalog is closed to non-superusers');

# Only a superuser may waive the password.
($ret, $stdout, $stderr) = as_role('alice', "ALTER USER MAPPING FOR alice SERVER guarded OPTIONS (ADD password_required 'false')");
like($stderr, qr/password_required=false is superuser-only/, 'password_required false is superuser-only');

ok(defined wait_until_clean($coordinator, [ $guarded, $trusting ], 1), 'no session left');
done_testing();
