# The query builder (issue 23 §1): one spec over two real clusters whose orders tables differ (backup lacks
# "discount" and has "ref" as text where production has an integer; "refunds" is production's only), in the three
# modes, each answer checked against the same hand-written SQL through fanout and compare; the errors of a spec
# naming what a database lacks; a filter value with quotes, backslashes and $$; a table the remote role cannot read;
# a report of a spec (and its failed run once a column is dropped); a read-only transaction; a role without USAGE.
use strict;
use warnings;

use JSON::PP;
use MultidbCluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $odd = q{it's a \ back $$ dollar};
my $production = start_remote('production');
my $backup = start_remote('backup');
my $odd_sql = $odd =~ s/'/''/gr;
$production->safe_psql('postgres', qq{
	CREATE TABLE orders (id int PRIMARY KEY, customer text, status text, total numeric(10,2), discount numeric(10,2),
	                     ref int, created_at date, note text);
	INSERT INTO orders SELECT g, 'c' || (g % 5), (ARRAY['paid', 'open', 'refunded'])[1 + g % 3], g * 2.5, g % 4,
	                          g * 10, date '2026-01-01' + g * 3, 'note ' || g FROM generate_series(1, 40) g;
	UPDATE orders SET note = '$odd_sql' WHERE id = 7;
	UPDATE orders SET note = 'its a back dollar' WHERE id = 8;
	CREATE TABLE refunds (id int, order_id int);
	CREATE TABLE secrets (id int, code text);
	GRANT SELECT ON orders, refunds TO reader;});
$backup->safe_psql('postgres', qq{
	CREATE TABLE orders (id int PRIMARY KEY, customer text, status text, total numeric(10,2), ref text,
	                     created_at date, note text);
	INSERT INTO orders SELECT g, 'c' || (g % 5), (ARRAY['paid', 'open', 'refunded'])[1 + g % 3], g * 2.5,
	                          'r' || g, date '2026-01-01' + g * 3, 'note ' || g FROM generate_series(1, 35) g;
	INSERT INTO orders VALUES (41, 'c9', 'paid', 99, 'r41', date '2026-05-01', 'late');
	UPDATE orders SET total = 1000 WHERE id = 10;
	UPDATE orders SET note = '$odd_sql' WHERE id = 7;
	CREATE TABLE secrets (id int, code text);
	GRANT SELECT ON orders TO reader;});

my $coordinator = start_coordinator();
add_connection($coordinator, 'production', $production);
add_connection($coordinator, 'backup', $backup);
$coordinator->safe_psql('postgres', q{
	SELECT multidb.create_group('both', ARRAY['production', 'backup']);
	CREATE FUNCTION sqlstate_of(statement text) RETURNS text LANGUAGE plpgsql AS $f$
	BEGIN
	  EXECUTE statement;
	  RETURN 'ok';
	EXCEPTION WHEN OTHERS THEN
	  RETURN SQLSTATE || ': ' || SQLERRM;
	END $f$;});

sub spec { return '$spec$' . encode_json($_[0]) . '$spec$::jsonb' }
sub query { return $coordinator->safe_psql('postgres', $_[0]) }
sub error_of { return query('SELECT sqlstate_of(' . '$stmt$' . $_[0] . '$stmt$' . ')') }

# ---- fanout: each database's rows, tagged, the same as the hand-written SQL through fanout
my $paid = spec({ connections => ['@both'], table => 'orders', columns => [ 'id', 'status', 'total' ],
	filter => { column => 'status', op => '=', value => 'paid' } });
my $hand = q{SELECT id, status, total FROM orders WHERE status = 'paid'};
my $per_db = q{SELECT source_db, count(*), sum((row_data->>'total')::numeric), min((row_data->>'id')::int) FROM %s GROUP BY 1 ORDER BY 1};
my $built = query(sprintf($per_db, "multidb.build($paid)"));
is($built, query(sprintf($per_db, "multidb.fanout(\$h\$$hand\$h\$, ARRAY['production', 'backup'])")),
	'fanout: per database the same rows as the hand-written SQL through fanout');
like($built, qr/^backup\|12\|.*\nproduction\|13\|/, '... tagged by database (backup 12 paid orders, production 13)');
is(query("SELECT string_agg(DISTINCT (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(row_data) k), ';') FROM multidb.build($paid)"),
	'id,status,total', '... with the spec\'s columns only');

# ---- totals: one combined result, equal to what the databases' rows give by hand
my $totals = spec({ connections => [ 'production', 'backup' ], table => 'orders', mode => 'totals',
	summaries => [ { fn => 'count' }, { fn => 'count_distinct', column => 'customer' }, { fn => 'sum', column => 'total' },
		{ fn => 'avg', column => 'total' }, { fn => 'min', column => 'created_at' }, { fn => 'max', column => 'total' } ] });
my $by_hand = q{SELECT count(*), count(DISTINCT row_data->>'customer'), sum((row_data->>'total')::numeric),
	round(avg((row_data->>'total')::numeric), 6), min((row_data->>'created_at')::date), max((row_data->>'total')::numeric)
	FROM multidb.fanout('SELECT customer, total, created_at FROM orders', ARRAY['production', 'backup'])};
is(query("SELECT source_db, (row_data->>'count')::bigint, (row_data->>'count_distinct_customer')::bigint,
	(row_data->>'sum_total')::numeric, round((row_data->>'avg_total')::numeric, 6), (row_data->>'min_created_at')::date,
	(row_data->>'max_total')::numeric FROM multidb.build($totals)"),
	'combined|' . query($by_hand), 'totals: count, count distinct, sum, avg, min, max across both equal the sums by hand');
my $grouped = spec({ connections => [ 'production', 'backup' ], table => 'orders', mode => 'totals',
	group_by => ['status'], summaries => [ { fn => 'count' }, { fn => 'sum', column => 'total', as => 'revenue' } ],
	sort => [ { column => 'status' } ] });
is(query("SELECT string_agg(concat_ws(':', row_data->>'status', row_data->>'count', (row_data->>'revenue')::numeric), ',')
	FROM multidb.build($grouped)"),
	query(q{SELECT string_agg(concat_ws(':', status, n, revenue), ',' ORDER BY status) FROM (
		SELECT row_data->>'status' AS status, count(*) AS n, sum((row_data->>'total')::numeric) AS revenue
		  FROM multidb.fanout('SELECT status, total FROM orders', ARRAY['production', 'backup']) GROUP BY 1) t}),
	'totals grouped by status, sorted: the counts and sums by hand');
is(query("SELECT source_db FROM multidb.build_sql($totals)"), "production\nbackup\ncombined",
	'build_sql of totals: one statement per database, then the combine step');

# ---- compare: the same differences as multidb.compare of the hand-written SQL
my $compare = spec({ table => 'orders', columns => [ 'id', 'customer', 'total' ], mode => 'compare',
	compare => { a => 'production', b => 'backup', key => ['id'] } });
my $diff = q{SELECT string_agg(status || ' ' || (key->>'id'), ',' ORDER BY status, (key->>'id')::int) FROM %s};
my $compared = query(sprintf($diff, "(SELECT row_data->>'status' AS status, row_data->'key' AS key FROM multidb.build($compare)) d"));
is($compared, query(sprintf($diff, q{multidb.compare('SELECT id, customer, total FROM orders', 'production', 'backup', ARRAY['id'])})),
	'compare: only_in_a, only_in_b and different rows as compare() of the hand-written SQL');
like($compared, qr/different 10/, '... the changed total among them');
like($compared, qr/only_in_a 40.*only_in_b 41/, '... and the rows only one side has');
is(query("SELECT DISTINCT source_db FROM multidb.build($compare)"), 'compared', '... each difference tagged compared');

# ---- what a database lacks: named with the database
like(error_of("SELECT multidb.build_plan(" . spec({ connections => [ 'production', 'backup' ], table => 'orders',
	columns => [ 'id', 'discount' ] }) . ")"),
	qr/^42703: column "discount" of table "public.orders" does not exist on database "backup"/,
	'a column backup lacks: 42703 naming it and backup');
like(error_of("SELECT multidb.build_plan(" . spec({ connections => [ 'production', 'backup' ], table => 'refunds' }) . ")"),
	qr/^42P01: table "public.refunds" does not exist on database "backup"/, 'a table only production has: 42P01 naming backup');
my ($ret, $out, $err) = $coordinator->psql('postgres',
	"SELECT multidb.build_plan(" . spec({ connections => [ 'production', 'backup' ], table => 'refunds' }) . ")");
like($err, qr/HINT:  multidb.spec_catalog\(ARRAY\['production', 'backup'\]\) lists the tables every chosen database has; after a migration, multidb.refresh_schema\('backup'\) reads its schema again/,
	'... with the HINT: the catalog and refresh_schema');
like(error_of("SELECT multidb.build_plan(" . spec({ connections => ['production'], table => 'orders',
	filter => { column => 'ref', op => '>', value => 'x' } }) . ")"), qr/^22023: invalid query spec: filter[^:]*: /,
	'a value that does not fit the column: 22023 naming the field');

my $catalog = decode_json(query(q{SELECT multidb.spec_catalog(ARRAY['production', 'backup'])}));
my %tables = map { ("$_->{schema}.$_->{name}" => $_) } @{ $catalog->{tables} };
is_deeply($tables{'public.refunds'}{missing_from}, ['backup'], 'spec_catalog: refunds is missing from backup');
my ($ref) = grep { $_->{name} eq 'ref' } @{ $tables{'public.orders'}{columns} };
ok($ref->{type_differs} && $ref->{types}{production} eq 'integer' && $ref->{types}{backup} eq 'text',
	'... and ref is integer on production, text on backup');

# ---- a value with quotes, a backslash and $$: exactly its row, as one literal
my $odd_spec = spec({ connections => [ 'production', 'backup' ], table => 'orders', columns => [ 'id', 'note' ],
	filter => { column => 'note', op => '=', value => $odd } });
is(query("SELECT string_agg(source_db || ':' || (row_data->>'id') || ':' || (row_data->>'note'), ',' ORDER BY source_db) FROM multidb.build($odd_spec)"),
	"backup:7:$odd,production:7:$odd", 'a value with quotes, a backslash and $$ finds exactly the row holding it');
my $odd_literal = "E'it''s a \\\\ back \$\$ dollar'";
is(query("SELECT count(*) FROM multidb.build_sql($odd_spec) WHERE strpos(sql, \$l\$$odd_literal\$l\$) > 0"), '2',
	'... written as one literal in the SQL build_sql shows');

# ---- a table the remote role cannot read is not offered, and a spec naming it fails
ok(!exists $tables{'public.secrets'}, 'spec_catalog does not offer a table the remote role cannot SELECT');
like(error_of("SELECT multidb.build_plan(" . spec({ connections => ['production'], table => 'secrets' }) . ")"),
	qr/^42P01: table "public.secrets" does not exist on database "production"/, '... and a spec naming it fails');

# ---- a report of a spec; its run after a column is dropped fails and is recorded
my $notes = spec({ connections => ['@both'], table => 'orders', columns => [ 'id', 'note' ],
	filter => { column => 'id', op => '<=', value => 3 } });
query("SELECT multidb.save_report_spec('notes', $notes)");
is(query(q{SELECT plan ? 'spec', connections::text, question IS NOT NULL FROM multidb.reports WHERE name = 'notes'}),
	't|{@both}|t', 'save_report_spec keeps the spec, its connections as written and its description');
is(query(q{SELECT multidb.run_report('notes') > 0; SELECT count(*) FROM multidb.report_runs WHERE report = 'notes' AND status = 'ok'}),
	"t\n6", 'run_report runs it: three rows from each database');
like(error_of("SELECT multidb.save_report_spec('notes', $notes)"), qr/^23505: /, 'a taken name: 23505');
like(error_of("SELECT multidb.save_report_spec('bad', " . spec({ connections => ['@both'], table => 'orders', columns => ['discount'] }) . ")"),
	qr/^42703: /, 'a spec that does not compile is refused when saved');
$backup->safe_psql('postgres', 'ALTER TABLE orders DROP COLUMN note');
query(q{SELECT multidb.refresh_schema('backup')});
($ret, $out, $err) = $coordinator->psql('postgres', q{SELECT multidb.run_report('notes')});
like($err, qr/WARNING:  report "notes" run \d+ failed: column "note" of table "public.orders" does not exist on database "backup"/,
	'the column dropped on backup: the run fails with a WARNING');
is(query(q{SELECT status, error LIKE '%"note"%backup%' FROM multidb.report_runs WHERE report = 'notes' ORDER BY id DESC LIMIT 1}),
	'failed|t', '... and is recorded as a failed run');

# ---- inside a read-only transaction, the schema cache cold
query('DELETE FROM multidb.schema_cache');
is(query("BEGIN TRANSACTION READ ONLY; SELECT count(*) FROM multidb.build($paid); COMMIT"), '25',
	'build inside a read-only transaction, with nothing cached: the schemas are read and used');

# ---- a role without USAGE on a connection
query('CREATE ROLE clerk');
my $both = spec({ connections => [ 'production', 'backup' ], table => 'orders' });
like(query("SET ROLE clerk; SELECT public.sqlstate_of(\$s\$SELECT multidb.build_plan($both)\$s\$)"), qr/^42501: /,
	'a role without USAGE on the connections: 42501');

done_testing();
