# A 2,000-table database: the prompt keeps the tables the question is about, their foreign-key neighbours,
# and says how many more exist.
use strict;
use warnings;

use JSON::PP;
use MultidbCluster;
use MultidbLlm;
use PostgreSQL::Test::Utils;
use Test::More;

my $wide = start_remote('wide', conf => "max_locks_per_transaction = 1024\n");
$wide->safe_psql('postgres', q{
	DO $$ BEGIN FOR i IN 1..2000 LOOP
	  EXECUTE format('CREATE TABLE filler_%s (id int PRIMARY KEY, label text)', i);
	END LOOP; END $$;
	CREATE TABLE customers (id int PRIMARY KEY, name text);
	CREATE TABLE invoices (id int PRIMARY KEY, customer_id int REFERENCES customers, amount numeric, issued date);
	COMMENT ON TABLE invoices IS 'money owed by customers';
	GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader;
});
my $coordinator = start_coordinator();
add_connection($coordinator, 'wide', $wide);
my $llm = MultidbLlm->new(rules => [
	{ match => 'invoice', reply => encode_json({ queries => [ { database => 'wide', sql => 'SELECT count(*) AS n FROM invoices' } ], explanation => 'x' }) } ]);
$coordinator->safe_psql('postgres',
	"CREATE SERVER llm FOREIGN DATA WRAPPER multidb_llm OPTIONS (url 'http://127.0.0.1:" . $llm->port . "/v1', model 'm');"
	  . "CREATE USER MAPPING FOR PUBLIC SERVER llm");

is($coordinator->safe_psql('postgres',
	"SELECT row_data->>'n' FROM multidb.ask('Total invoice amount per month?', connections => ARRAY['wide'])"),
	'0', 'an ask over a 2,000-table database answers');
my ($request) = $llm->requests;
my $schema = join "\n", map { $_->{content} } grep { $_->{content} =~ /schema of the databases/ } @{ $request->{body}{messages} };
like($schema, qr/database "wide", table public\.invoices.* -- money owed by customers/, 'the table the question is about is shown');
like($schema, qr/database "wide", table public\.customers/, 'with its foreign-key neighbour');
like($schema, qr/-- 1,943 more tables not shown \(wide: 1,943\); ask about them by name/, 'and a line says how many more exist');
my $shown = () = $schema =~ /database "wide", table /g;
is($shown, 60, 'multidb.max_prompt_tables (60) tables are shown');
cmp_ok(length($schema), '<', 20_000, 'the prompt stays small: ' . length($schema) . ' characters');

$coordinator->safe_psql('postgres', "SET multidb.max_prompt_tables = 5; SELECT count(*) FROM multidb.ask('invoice count', connections => ARRAY['wide'])");
my @requests = $llm->requests;
my $small = join "\n", map { $_->{content} } @{ $requests[-1]{body}{messages} };
my $small_shown = () = $small =~ /database "wide", table /g;
is($small_shown, 5, 'a smaller multidb.max_prompt_tables is honoured');
done_testing();
