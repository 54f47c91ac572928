# multidb.default_connections (0.8): ask, plan and save_report with neither a session nor connections use the
# setting, set per database or per role (read at log-in); with it empty, the caller's only usable connection;
# a setting naming a connection the role cannot use fails naming the setting. ALTER EXTENSION UPDATE from 0.7
# brings it.
use strict;
use warnings;

use JSON::PP;
use MultidbCluster;
use MultidbLlm;
use PostgreSQL::Test::Utils;
use Test::More;

my $remote = start_remote('shop');
my $coordinator = start_coordinator();
add_connection($coordinator, 'a', $remote);
add_connection($coordinator, 'b', $remote);
my $both = encode_json({ queries => [ { database => 'a', sql => 'SELECT count(*) AS n FROM items' },
			{ database => 'b', sql => 'SELECT count(*) AS n FROM items WHERE id <= 10' } ], explanation => 'Both.' });
my $only_a = encode_json({ queries => [ { database => 'a', sql => 'SELECT count(*) AS n FROM items' } ],
		explanation => 'One.' });
my $llm = MultidbLlm->new(rules => [
		{ match => 'in both', reply => $both },
		{ match => 'How many items', reply => $only_a } ],
	default => 'no scripted reply');
$coordinator->safe_psql('postgres', "
	CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm
	  OPTIONS (provider 'openai', url 'http://127.0.0.1:" . $llm->port . "/v1', model 'stub-model', timeout '5s');
	CREATE USER MAPPING FOR PUBLIC SERVER llm OPTIONS (api_key 'sk-test');
	SELECT multidb.create_group('both', ARRAY['a', 'b']);
	CREATE ROLE analyst LOGIN;
	GRANT USAGE ON FOREIGN SERVER a, b, llm TO analyst;
	CREATE USER MAPPING FOR analyst SERVER a OPTIONS (user 'reader', password 'secret');");

# 1. The superuser can use a and b: with the setting empty, the ERROR lists them and names the setting.
my ($ret, $stdout, $stderr) = $coordinator->psql('postgres', q{SELECT * FROM multidb.ask('How many items in both?')});
like($stderr, qr/ERROR:  which databases should multidb ask\?.*DETAIL:  multidb.default_connections is empty and you can use 2 connections.*HINT:  Your connections: a, b\..*SET multidb.default_connections = 'a'/s,
	'two usable connections and no default: the ERROR lists them and names the setting');

# 2. Set per database: every new session of it asks the group.
$coordinator->safe_psql('postgres', q{ALTER DATABASE postgres SET multidb.default_connections = '@both'});
is($coordinator->safe_psql('postgres', q{SELECT string_agg(source_db || '=' || (row_data->>'n'), ',' ORDER BY source_db) FROM multidb.ask('How many items in both?')}),
	'a=100,b=10', 'ALTER DATABASE ... SET: an ask with neither session nor connections asks the group');
is($coordinator->safe_psql('postgres', q{SELECT string_agg(source_db, ',' ORDER BY source_db) FROM multidb.plan('How many items in both?')}),
	'a,b', '... and so does plan');
is($coordinator->safe_psql('postgres', q{SELECT databases_used FROM multidb.query_history ORDER BY id DESC LIMIT 1}),
	'{a,b}', '... and the history names the databases');
$coordinator->safe_psql('postgres', q{SELECT multidb.save_report('both_counts', 'How many items in both?')});
is($coordinator->safe_psql('postgres', q{SELECT connections FROM multidb.reports WHERE name = 'both_counts'}),
	'{@both}', 'save_report keeps the connections the default named');
$coordinator->safe_psql('postgres', q{SELECT multidb.run_report('both_counts')});
is($coordinator->safe_psql('postgres', q{SELECT string_agg(source_db || '=' || (row_data->>'n'), ',' ORDER BY source_db) FROM multidb.report_runs WHERE report = 'both_counts'}),
	'a=100,b=10', '... and the report runs');

# 3. The analyst can use only a (no user mapping for b): with no setting of its own that one is used...
$coordinator->safe_psql('postgres', q{ALTER DATABASE postgres RESET multidb.default_connections});
is($coordinator->safe_psql('postgres', q{SELECT row_data->>'n' FROM multidb.ask('How many items?')}, extra_params => [ '-U', 'analyst' ]),
	'100', 'the setting empty and one usable connection: that one');
is($coordinator->safe_psql('postgres', q{SELECT multidb.default_connections()}, extra_params => [ '-U', 'analyst' ]),
	'{a}', '... as default_connections() says');
# ... and a setting of its role that names b fails, naming the setting.
$coordinator->safe_psql('postgres', q{ALTER ROLE analyst SET multidb.default_connections = 'b'});
($ret, $stdout, $stderr) = $coordinator->psql('postgres', q{SELECT * FROM multidb.ask('How many items?')},
	extra_params => [ '-U', 'analyst' ]);
like($stderr, qr/ERROR:  connection "b" has no user mapping for role "analyst" \(named by multidb.default_connections\).*HINT:  SHOW multidb.default_connections/s,
	'ALTER ROLE ... SET naming a connection the role cannot use: the ERROR names the setting');
$coordinator->safe_psql('postgres', q{ALTER ROLE analyst SET multidb.default_connections = 'a'});
is($coordinator->safe_psql('postgres', q{SELECT row_data->>'n' FROM multidb.ask('How many items?')}, extra_params => [ '-U', 'analyst' ]),
	'100', 'ALTER ROLE ... SET: the role\'s own default is used');

# 4. A bad list set before the library loaded is refused when it loads: the session keeps the default.
$coordinator->safe_psql('postgres', q{ALTER ROLE analyst SET multidb.default_connections = 'a,,b'});
($ret, $stdout, $stderr) = $coordinator->psql('postgres', q{SELECT multidb.default_connections()},
	extra_params => [ '-U', 'analyst' ]);
like($stderr, qr/invalid value for parameter "multidb.default_connections"/, 'a bad value set for the role is reported when the library loads');
$coordinator->safe_psql('postgres', q{ALTER ROLE analyst RESET multidb.default_connections});

# 5. ALTER EXTENSION UPDATE from 0.7 brings default_connections() and the new save_report.
$coordinator->safe_psql('postgres', 'CREATE DATABASE upgraded');
$coordinator->safe_psql('upgraded', "CREATE EXTENSION multidb VERSION '0.7'; ALTER EXTENSION multidb UPDATE");
is($coordinator->safe_psql('upgraded', q{SELECT extversion = (SELECT default_version FROM pg_available_extensions WHERE name = 'multidb') FROM pg_extension WHERE extname = 'multidb'}),
	't', 'ALTER EXTENSION multidb UPDATE from 0.7 reaches the newest version');
($ret, $stdout, $stderr) = $coordinator->psql('upgraded', q{SELECT multidb.default_connections()});
like($stderr, qr/which databases should multidb ask\?/, '... which has default_connections()');
like($coordinator->safe_psql('upgraded', q{SELECT prosrc FROM pg_proc WHERE proname = 'save_report'}),
	qr/multidb\.default_connections\(\)/, '... and the save_report that uses it');
done_testing();
