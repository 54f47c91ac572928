# A fleet of tenant databases of one schema for TAP tests: K remote clusters (MultidbCluster.pm's
# start_remote), N tenant databases spread over them round-robin, registered on a coordinator as multidb
# connections and a group.
#
#   my $fleet = MultidbFleet::start_fleet($coordinator,
#       tenants  => 300,          # N tenant databases (default 30)
#       clusters => 3,            # K remote clusters (default 1)
#       prefix   => 't',          # tenant names: t0001, t0002, ... (4 digits; default 't')
#       group    => 'tenants',    # the group of them all, '@tenants' (default 'tenants'; undef: no group)
#       conf     => "...",        # more postgresql.conf lines for every remote (max_connections is set to
#                                 #   max(100, per-cluster count + 20: every tenant may hold a kept connection) unless conf sets it)
#       variants => { extra_column => [3, 7], missing_column => [5], retyped_column => [9] },
#                                 # tenant numbers whose schema differs (see below)
#       register => 1);           # 0: create the databases only (no connections, no group)
#
# The schema of every tenant (made once per cluster in a template database, then copied with
# CREATE DATABASE ... TEMPLATE ... STRATEGY FILE_COPY, which is what makes hundreds quick):
#   customers   (id int PRIMARY KEY, name text NOT NULL, country text NOT NULL, created_at timestamptz)
#   products    (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL)
#   orders      (id int PRIMARY KEY, customer_id int REFERENCES customers, status text NOT NULL,
#                placed_at timestamptz NOT NULL, total numeric(12,2) NOT NULL)
#   order_items (order_id int REFERENCES orders, product_id int REFERENCES products, quantity int NOT NULL,
#                PRIMARY KEY (order_id, product_id))
# Tenant number i (1-based) holds 3 customers, 2 products, orders(i) = 1 + (i * 7) % 13 orders (so between 1
# and 13, not in sequence: rankings have one known answer per count; the most orders: 13, by the tenants with
# i * 7 % 13 == 12), and one order_items row per order. All granted to role "reader" (password "secret").
# Variants (the tenant numbers given):
#   extra_column   customers gains "loyalty_tier text" (a migration that reached only them)
#   missing_column orders lacks "status"
#   retyped_column orders.total is "double precision"
#
# Returns a hash reference:
#   names     [ 't0001', ... ]            the tenant names, in order (= connection names = database names)
#   ports     { t0001 => 5433, ... }      the port of each tenant's cluster
#   cluster_of{ t0001 => 0, ... }         the index of each tenant's cluster in remotes
#   remotes   [ $node, ... ]              the K PostgreSQL::Test::Cluster remotes
#   orders    { t0001 => 8, ... }         the expected count of orders (and of order_items) per tenant
#   customers 3, products 2               the same in every tenant
#   group     'tenants' (or undef)
#   seconds   { create => s, register => s }  the time spent creating the databases and registering them
#
# Also exported: expected_orders($i) (orders of tenant number i), fleet_sessions_of_ours($fleet) (multidb's
# sessions on all its remotes, any state), max_fleet_sessions (that count's largest per remote).
package MultidbFleet;

use strict;
use warnings;

use Exporter 'import';
use MultidbCluster;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

our @EXPORT = qw(start_fleet expected_orders fleet_sessions_of_ours max_fleet_sessions);

sub expected_orders
{
	my ($i) = @_;
	return 1 + ($i * 7) % 13;
}

# The template's schema and rows; the orders are added per tenant afterwards.
my $schema_sql = q{
	CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, country text NOT NULL, created_at timestamptz);
	CREATE TABLE products (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL);
	CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers, status text NOT NULL,
		placed_at timestamptz NOT NULL, total numeric(12,2) NOT NULL);
	CREATE TABLE order_items (order_id int REFERENCES orders, product_id int REFERENCES products,
		quantity int NOT NULL, PRIMARY KEY (order_id, product_id));
	INSERT INTO customers VALUES (1, 'Ada', 'DE', '2024-01-01'), (2, 'Bo', 'SE', '2024-02-01'), (3, 'Cy', 'US', '2024-03-01');
	INSERT INTO products VALUES (1, 'widget', 9.50), (2, 'gadget', 20.00);
	INSERT INTO orders SELECT g, 1 + g % 3, CASE WHEN g % 2 = 0 THEN 'shipped' ELSE 'open' END,
		timestamptz '2024-06-01' + g * interval '1 day', g * 10 FROM generate_series(1, 13) g;
	INSERT INTO order_items SELECT g, 1 + g % 2, g FROM generate_series(1, 13) g;
	GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader;
};

sub start_fleet
{
	my ($coordinator, %opts) = @_;
	my $n = $opts{tenants} // 30;
	my $k = $opts{clusters} // 1;
	my $prefix = $opts{prefix} // 't';
	my $group = exists $opts{group} ? $opts{group} : 'tenants';
	my $register = $opts{register} // 1;
	my %variant;
	for my $kind (qw(extra_column missing_column retyped_column))
	{
		$variant{$_} = $kind for @{ $opts{variants}{$kind} // [] };
	}

	my $per_cluster = int(($n + $k - 1) / $k);
	my $conf = $opts{conf} // '';
	my $max_connections = $per_cluster + 20 > 100 ? $per_cluster + 20 : 100;
	$conf = "max_connections = $max_connections\n$conf" unless $conf =~ /max_connections/;
	# Copying hundreds of databases: no fsync of each (these are throwaway clusters).
	$conf .= "fsync = off\n";

	my $start = time;
	my @remotes = map { start_remote("fleet$_", conf => $conf) } 0 .. $k - 1;
	for my $remote (@remotes)
	{
		$remote->safe_psql('postgres', 'CREATE DATABASE fleet_template');
		$remote->safe_psql('fleet_template', $schema_sql);
		# Variant templates, made only when some tenant of this fleet needs them.
		my %needed = map { $_ => 1 } values %variant;
		for my $kind (sort keys %needed)
		{
			my $change = {
				extra_column => 'ALTER TABLE customers ADD COLUMN loyalty_tier text',
				missing_column => 'ALTER TABLE orders DROP COLUMN status',
				retyped_column => 'ALTER TABLE orders ALTER COLUMN total TYPE double precision',
			}->{$kind};
			$remote->safe_psql('postgres', "CREATE DATABASE fleet_$kind TEMPLATE fleet_template STRATEGY FILE_COPY");
			$remote->safe_psql("fleet_$kind", $change);
		}
	}

	my (@names, %ports, %cluster_of, %orders, @sql);
	push @sql, '' for 0 .. $k - 1;
	for my $i (1 .. $n)
	{
		my $name = sprintf('%s%04d', $prefix, $i);
		my $c = ($i - 1) % $k;
		push @names, $name;
		$ports{$name} = $remotes[$c]->port;
		$cluster_of{$name} = $c;
		$orders{$name} = expected_orders($i);
		my $template = $variant{$i} ? "fleet_$variant{$i}" : 'fleet_template';
		$sql[$c] .= "CREATE DATABASE $name TEMPLATE $template STRATEGY FILE_COPY;\n";
	}
	# CREATE DATABASE cannot run in a transaction block: psql runs each of the script's statements on its own.
	# Then each tenant's own count of orders: the template has 13, deleted down to expected_orders(i), in the
	# same psql (\c to each database), so one psql per cluster does it all.
	for my $i (1 .. $n)
	{
		my $name = $names[ $i - 1 ];
		next if $orders{$name} == 13;
		$sql[ $cluster_of{$name} ] .= "\\c $name\n"
		  . "DELETE FROM order_items WHERE order_id > $orders{$name}; DELETE FROM orders WHERE id > $orders{$name};\n";
	}
	$remotes[$_]->safe_psql('postgres', $sql[$_]) for grep { $sql[$_] ne '' } 0 .. $k - 1;
	my $created = time - $start;

	$start = time;
	if ($register)
	{
		my $statements = "BEGIN;\n";
		for my $name (@names)
		{
			$statements .= "SELECT multidb.add_connection('$name', 'host=127.0.0.1 port=$ports{$name} "
			  . "dbname=$name user=reader password=secret', validate => false);\n";
		}
		$statements .= "SELECT multidb.create_group('$group', ARRAY[" . join(',', map {"'$_'"} @names) . "]);\n"
		  if defined $group;
		$statements .= "COMMIT;\n";
		$coordinator->safe_psql('postgres', $statements);
	}
	my $registered = time - $start;
	note(sprintf('fleet: %d tenant databases on %d clusters created in %.1f s, registered in %.1f s',
		$n, $k, $created, $registered));

	return {
		names => \@names,
		ports => \%ports,
		cluster_of => \%cluster_of,
		remotes => \@remotes,
		orders => \%orders,
		customers => 3,
		products => 2,
		group => $group,
		seconds => { create => $created, register => $registered },
	};
}

sub fleet_sessions_of_ours
{
	my ($fleet) = @_;
	my $total = 0;
	$total += remote_sessions_of_ours($_) for @{ $fleet->{remotes} };
	return $total;
}

sub max_fleet_sessions
{
	my ($fleet) = @_;
	my $max = 0;
	for my $remote (@{ $fleet->{remotes} })
	{
		my $n = remote_sessions_of_ours($remote);
		$max = $n if $n > $max;
	}
	return $max;
}

1;
