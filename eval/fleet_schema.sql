-- The schema every tenant of the eval's fleet shares (eval/make_fleet.sh makes each tenant a copy of a template
-- database with it); psql variable :reader is the role that may read the tables.
CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, country text NOT NULL);
CREATE TABLE orders (
    id          int PRIMARY KEY,
    customer_id int NOT NULL REFERENCES customers,
    placed_at   date NOT NULL,
    total       numeric(10,2) NOT NULL
);
GRANT SELECT ON customers, orders TO :"reader";
