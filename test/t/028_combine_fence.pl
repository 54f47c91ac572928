# The combine step reads only the step results: every call that reaches the server's catalog, statistics,
# settings, activity, files, sizes, privileges, transaction ids or version is refused before anything runs,
# and nothing of it goes to the LLM; functions on values still answer. What a repair request tells the LLM of
# an error is multidb.repair_error_detail's: full, masked (the default) or sqlstate.
use strict;
use warnings;
use utf8;

use JSON::PP;
use MultidbCluster;
use MultidbLlm;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $remote = start_remote('remote');
$remote->safe_psql('postgres', q{
	CREATE TABLE accounts (id int PRIMARY KEY, token text, code text, opened timestamptz);
	INSERT INTO accounts VALUES (1, 'TOKEN-7f3c-data-secret', 'code_5b9e_data_secret', '2024-03-15 10:00+00'),
	                            (2, 'plain', 'plain', '2024-04-02 12:00+00');
	GRANT SELECT ON accounts TO reader;
});
my $coordinator = start_coordinator();
add_connection($coordinator, 'r1', $remote);
add_connection($coordinator, 'r2', $remote);

my $llm = MultidbLlm->new(rules => [], default => 'no scripted reply');
$coordinator->safe_psql('postgres',
	"CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm OPTIONS (url 'http://127.0.0.1:" . $llm->port . "/v1', model 'm');"
	  . 'CREATE USER MAPPING FOR PUBLIC SERVER llm');

sub plan_json
{
	my ($combine, @steps) = @_;
	my @queries;
	while (my ($database, $sql) = splice(@steps, 0, 2)) { push @queries, { database => $database, sql => $sql }; }
	my %plan = (queries => \@queries, explanation => 'scripted');
	$plan{combine} = $combine if defined $combine;
	return encode_json(\%plan);
}

sub ask
{
	my ($question, %opts) = @_;
	return $coordinator->psql('postgres',
		($opts{setup} // '') . "SELECT source_db, row_data FROM multidb.ask('$question', connections => ARRAY['r1', 'r2'])",
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
}

# The requests of one question: its plan request, and any repair request after it.
sub requests_about
{
	my ($question) = @_;
	return grep { encode_json($_->{body}{messages}) =~ /\Q$question\E/ } $llm->requests;
}
sub last_user_message { return $_[0]{body}{messages}[-1]{content} }

my ($ret, $out, $err);

# ---- the attack seen: another session's query text, cast to int, came back in the repair request --------------

my ($victim, $victim_out, $victim_err) =
  background_fanout($coordinator, "SELECT 'ACTIVITY-SECRET-51d2' AS s, pg_sleep(120)");
for (1 .. 200)
{
	last if backend_pid_running($coordinator, 'ACTIVITY-SECRET') ne '';
	usleep(50_000);
}
isnt(backend_pid_running($coordinator, 'ACTIVITY-SECRET'), '', 'another session runs a query with a secret in its text');
$llm->set_script(rules => [ { match => 'attack: activity',
	reply => plan_json("SELECT (SELECT string_agg(query, ' | ') FROM pg_stat_get_activity(NULL))::int AS n FROM r1",
		r1 => 'SELECT 1 AS one') } ], default => 'no scripted reply');
($ret, $out, $err) = ask('attack: activity');
like($err, qr/ERROR:  42501: multidb refused the LLM's combine step: the combine step calls pg_stat_get_activity\(integer\)/,
	"the combine step may not read another session's query text: refused (42501), naming the function");
is(scalar(requests_about('attack: activity')), 1, '... no repair request: the LLM was asked once, for the plan');
is(scalar(grep { encode_json($_) =~ /ACTIVITY-SECRET/ } $llm->requests), 0, '... and no request carried the secret');
$coordinator->safe_psql('postgres',
	"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%ACTIVITY-SECRET%' AND pid <> pg_backend_pid()");
$victim->finish;

# ---- every class of call that reaches beyond the step tables ---------------------------------------------------

# question => [combine step, the refusal's words after "the combine step "]
my %refused = (
	'catalog: a description'      => [ 'SELECT obj_description(1259) AS d FROM r1',            qr/calls obj_description\(oid(,name)?\)/ ],
	'catalog: a type name'        => [ 'SELECT format_type(23, NULL) AS t FROM r1',            qr/calls format_type\(oid,integer\)/ ],
	'catalog: a view definition'  => [ 'SELECT pg_get_viewdef(1259) AS v FROM r1',             qr/calls pg_get_viewdef\(/ ],
	'catalog: a role name'        => [ 'SELECT pg_get_userbyid(10) AS r FROM r1',              qr/calls pg_get_userbyid\(oid\)/ ],
	'statistics'                  => [ 'SELECT pg_stat_get_numscans(1259) AS n FROM r1',       qr/calls pg_stat_get_numscans\(oid\)/ ],
	'activity in FROM'            => [ 'SELECT query FROM pg_stat_get_activity(NULL)',         qr/calls pg_stat_get_activity\(integer\)/ ],
	'activity: the backend pid'   => [ 'SELECT pg_backend_pid() AS p FROM r1',                 qr/calls pg_backend_pid\(\)/ ],
	'settings in FROM'            => [ 'SELECT name, setting FROM pg_show_all_settings()',     qr/calls pg_show_all_settings\(\)/ ],
	'settings'                    => [ "SELECT current_setting('data_directory') AS d FROM r1", qr/calls current_setting\(text(,boolean)?\)/ ],
	'files'                       => [ 'SELECT pg_relation_filepath(1259) AS f FROM r1',       qr/calls pg_relation_filepath\(regclass\)/ ],
	'files: the tablespaces'      => [ 'SELECT pg_tablespace_location(1663) AS l FROM r1',     qr/calls pg_tablespace_location\(oid\)/ ],
	'sizes'                       => [ 'SELECT pg_column_size(one) AS s FROM r1',              qr/calls pg_column_size\("any"\)/ ],
	'privileges'                  => [ "SELECT has_table_privilege('multidb.chat_sessions', 'SELECT') AS p FROM r1", qr/calls has_table_privilege\(/ ],
	'privileges: roles'           => [ "SELECT pg_has_role('pg_read_all_stats', 'MEMBER') AS p FROM r1", qr/calls pg_has_role\(/ ],
	'transaction ids'             => [ 'SELECT txid_current_if_assigned() AS x FROM r1',       qr/calls txid_current_if_assigned\(\)/ ],
	'snapshots'                   => [ 'SELECT pg_current_snapshot() AS s FROM r1',            qr/calls pg_current_snapshot\(\)/ ],
	'snapshots of values'         => [ "SELECT txid_snapshot_xmin('10:20:') AS x FROM r1",     qr/calls txid_snapshot_xmin\(txid_snapshot\)/ ],
	'the version'                 => [ 'SELECT version() AS v FROM r1',                        qr/calls version\(\)/ ],
	'a cast to regclass'          => [ "SELECT 'pg_authid'::regclass::oid AS o FROM r1",       qr/casts to regclass/ ],
	'a cast of an oid to regrole' => [ 'SELECT 10::regrole::text AS r FROM r1',                qr/casts to regrole/ ],
	'CAST to regnamespace'        => [ "SELECT CAST('multidb' AS regnamespace) AS n FROM r1",  qr/casts to regnamespace/ ],
	'a cast to regproc[]'         => [ "SELECT '{now}'::pg_catalog.regproc[] AS p FROM r1",    qr/casts to regproc\[\]/ ],
	'a cast to regtype'           => [ "SELECT 'int4'::regtype AS t FROM r1",                  qr/casts to regtype/ ],
	'a cast to regconfig'         => [ "SELECT 'simple'::regconfig AS c FROM r1",              qr/casts to regconfig/ ],
	'a reg* function'             => [ "SELECT to_regclass('pg_authid') AS c FROM r1",         qr/calls to_regclass\(text\)/ ],
	'an acl item'                 => [ "SELECT makeaclitem(10, 10, 'SELECT', false)::text AS a FROM r1", qr/calls makeaclitem\(oid,oid,text,boolean\)/ ],
	'the session user'            => [ 'SELECT session_user AS u FROM r1',                     qr/reads SESSION_USER/ ],
	'the current role'            => [ 'SELECT current_role AS u FROM r1',                     qr/reads CURRENT_ROLE/ ],
	'an attribute call'           => [ 'SELECT (one).pg_column_size AS s FROM r1',             qr/calls pg_column_size\("any"\)/ ],
	'an operator of text search'  => [ "SELECT 'a b' \@\@ 'a' AS m FROM r1",                   qr/uses operator \@\@, which can run ts_match_t[tq]\(/ ],
	'sleeping'                    => [ 'SELECT pg_sleep(1) FROM r1',                           qr/calls pg_sleep\(double precision\)/ ],
	'a type of another schema'    => [ 'SELECT one::information_schema.cardinal_number AS c FROM r1', qr/names type information_schema\.cardinal_number/ ],
);
# The longest questions first: the stand-in answers the first rule whose match the question contains.
$llm->set_script(rules => [ map { { match => "refuse: $_", reply => plan_json($refused{$_}[0], r1 => 'SELECT 1 AS one') } }
	  sort { length($b) <=> length($a) } keys %refused ], default => 'no scripted reply');
for my $class (sort keys %refused)
{
	($ret, $out, $err) = ask("refuse: $class");
	like($err, qr/ERROR:  42501: multidb refused the LLM's combine step: the combine step $refused{$class}[1]/,
		"combine step reaching $class: refused (42501), naming what it reaches");
}
is(scalar(grep { last_user_message($_) =~ /^refuse: / } $llm->requests), scalar(keys %refused),
	'each refused ask asked the LLM once, for its plan');
is(scalar(grep { encode_json($_) =~ /combine step failed|42501|multidb refused/ } $llm->requests), 0,
	'no refusal and no error went back to the LLM');
is($coordinator->safe_psql('postgres', "SELECT count(*) FROM multidb.query_history WHERE question LIKE 'refuse: %' AND status = 'refused'"),
	scalar(keys %refused), 'every refusal is in the history');

# ---- functions on values answer -----------------------------------------------------------------------------

my $items = 'SELECT id, name, price FROM items WHERE id <= 4';
my $opened = 'SELECT id, opened FROM accounts';
my %answers = (
	'rank and total' => [ plan_json('SELECT id, rank() OVER (ORDER BY price DESC) AS r, sum(price) OVER () AS total, '
			  . 'lag(id) OVER (ORDER BY id) AS before FROM r1 ORDER BY id LIMIT 2', r1 => $items),
		qq{combined|{"r": 4, "id": 1, "total": 15.00, "before": null}\ncombined|{"r": 3, "id": 2, "total": 15.00, "before": 1}} ],
	'aggregates' => [ plan_json("SELECT count(*) AS n, string_agg(upper(name), ',' ORDER BY id) AS names, json_agg(id ORDER BY id) AS ids, "
			  . "jsonb_build_object('max', max(price), 'avg', round(avg(price), 2)) AS stats, array_agg(DISTINCT id % 2) AS parity FROM r1", r1 => $items),
		q{combined|{"n": 4, "ids": [1, 2, 3, 4], "names": "ITEM 1,ITEM 2,ITEM 3,ITEM 4", "stats": {"avg": 3.75, "max": 6.00}, "parity": "{0,1}"}} ],
	'dates' => [ plan_json("SELECT to_char(date_trunc('month', opened AT TIME ZONE 'UTC'), 'YYYY-MM') AS month, "
			  . "extract(year FROM opened AT TIME ZONE 'UTC') AS year, opened + interval '1 day' > opened AS later, "
			  . "now() > opened AS past, age(now(), opened) > interval '1 day' AS old, "
			  . "(opened AT TIME ZONE 'UTC')::date = date '2024-03-15' AS same_day FROM r1 WHERE id = 1", r1 => $opened),
		q{combined|{"old": true, "past": true, "year": 2024, "later": true, "month": "2024-03", "same_day": true}} ],
	'text' => [ plan_json("SELECT format('%s costs %s', name, price) AS f, concat(name, '/', id) AS c, name || ' #' || id AS j, "
			  . "length(name) AS l, to_jsonb(r1) ->> 'name' AS n FROM r1 WHERE id = 2", r1 => $items),
		q{combined|{"c": "item 2/2", "f": "item 2 costs 3.00", "j": "item 2 #2", "l": 6, "n": "item 2"}} ],
	'series, arrays, sets' => [ plan_json('SELECT g, x FROM generate_series(1, 2) g, unnest(ARRAY[10, 20]) x '
			  . 'WHERE (g, x) NOT IN (SELECT 1, 20) EXCEPT SELECT id, 10 FROM r1 WHERE id = 2 ORDER BY g, x', r1 => $items),
		qq{combined|{"g": 1, "x": 10}\ncombined|{"g": 2, "x": 20}} ],
	'types' => [ plan_json('SELECT pg_typeof(price)::text AS t, price::int AS i, cast(id AS text) AS s, greatest(id, 3) AS g, '
			  . "coalesce(NULL, name) AS n, now() - interval '1 hour' < now() AS earlier, random() < 2 AS r FROM r1 WHERE id = 1", r1 => $items),
		q{combined|{"g": 3, "i": 2, "n": "item 1", "r": true, "s": "1", "t": "numeric", "earlier": true}} ],
	# a remote column of a type whose input reads the catalog is text here: 'items' names no relation here
	'a remote regclass column' => [ plan_json('SELECT r, pg_typeof(r)::text AS t, a FROM r1',
			r1 => "SELECT 'items'::regclass AS r, '{reader=r/reader}'::aclitem[] AS a"),
		q{combined|{"a": "{reader=r/reader}", "r": "items", "t": "text"}} ],
);
$llm->set_script(rules => [ map { { match => "answer: $_", reply => $answers{$_}[0] } } sort keys %answers ], default => 'no scripted reply');
for my $question (sort keys %answers)
{
	($ret, $out, $err) = ask("answer: $question");
	is($out, $answers{$question}[1], "a combine step with $question answers") or diag($err);
}

# ---- what a repair request tells the LLM of an error ------------------------------------------------------------

my $repaired = plan_json(undef, r1 => 'SELECT id AS n FROM accounts WHERE id = 1');
$llm->set_script(rules => [
	{ match => 'Some statements failed', reply => $repaired },
	{ match => 'the combine step failed', reply => plan_json('SELECT n FROM r1', r1 => 'SELECT id AS n FROM accounts WHERE id = 1') },
	{ match => 'cast a secret', reply => plan_json(undef, r1 => 'SELECT token::int AS n FROM accounts WHERE id = 1') },
	{ match => 'name a secret', reply => plan_json(undef, r1 => 'SELECT code::regclass AS n FROM accounts WHERE id = 1') },
	{ match => 'combine a secret', reply => plan_json('SELECT token::int AS n FROM r1', r1 => 'SELECT token FROM accounts WHERE id = 1') },
], default => 'no scripted reply');

sub repair_request_of
{
	my ($question, $setup) = @_;
	my ($ret, $out, $err) = ask($question, setup => $setup);
	is($out, 'r1|{"n": 1}', "$question ($setup): repaired and answered") or diag($err) if $question !~ /combine/;
	is($out, 'combined|{"n": 1}', "$question ($setup): repaired and answered") or diag($err) if $question =~ /combine/;
	my @requests = requests_about($question);
	is(scalar(@requests), 2, "$question: the plan request and one repair request");
	return last_user_message($requests[-1]);
}

my $repair = repair_request_of('cast a secret, masked', '');
like($repair, qr/22P02 invalid_text_representation: invalid input syntax for type integer: "…"/,
	'masked (the default): the SQLSTATE, its name and the message with its quoted value masked');
unlike($repair, qr/TOKEN-7f3c/, '... and not the value');

$repair = repair_request_of('cast a secret, full', 'SET multidb.repair_error_detail = full; ');
like($repair, qr/invalid input syntax for type integer: "TOKEN-7f3c-data-secret"/, 'full: the message as the remote wrote it');

$repair = repair_request_of('cast a secret, sqlstate', 'SET multidb.repair_error_detail = sqlstate; ');
like($repair, qr/error: 22P02 invalid_text_representation\n/, 'sqlstate: the SQLSTATE and its name');
unlike($repair, qr/invalid input syntax|TOKEN-7f3c/, '... and nothing of the message');

$repair = repair_request_of('name a secret, masked', '');
like($repair, qr/42P01 undefined_table: relation "…" does not exist/,
	'masked: an identifier the LLM did not write (a value read as a relation name) is masked too');
unlike($repair, qr/code_5b9e/, '... and not the value');

$repair = repair_request_of('combine a secret, masked', '');
like($repair, qr/22P02 invalid_text_representation: invalid input syntax for type integer: "…"/,
	'masked: the combine step\'s own error too');
unlike($repair, qr/TOKEN-7f3c/, '... and not the value');
$repair = repair_request_of('combine a secret, full', 'SET multidb.repair_error_detail = full; ');
like($repair, qr/TOKEN-7f3c-data-secret/, 'full: the combine step\'s error as it was');

is($coordinator->safe_psql('postgres',
	"SELECT attempts->0->'failures'->0->>'error' FROM multidb.query_history WHERE question = 'cast a secret, masked'"),
	'connection "r1": invalid input syntax for type integer: "TOKEN-7f3c-data-secret"',
	'the history, which the asking role reads, keeps the whole message');

($ret, $out, $err) = $coordinator->psql('postgres',
	"LOAD 'multidb'; SET multidb.repair_error_detail = everything");
like($err, qr/invalid value for parameter "multidb.repair_error_detail": "everything".*Available values: full, masked, sqlstate/s,
	'the setting takes full, masked or sqlstate');

ok(defined wait_until_clean($coordinator, [$remote], 10), 'no worker and no remote session left');
done_testing();
