-- One tenant's orders, generated deterministically from its name (psql variables :tenant and :reader, the role
-- that may read them): the tenants differ in how many orders they have and what they are worth.
CREATE TABLE orders (id int PRIMARY KEY, total numeric(10,2) NOT NULL);
INSERT INTO orders
SELECT g, round((5 + (g * 37) % 90 + length(:'tenant') * 0.5)::numeric, 2)
  FROM generate_series(1, 40 + 25 * (length(:'tenant') % 4) + ascii(substr(:'tenant', 8)) % 30) g;
GRANT SELECT ON orders TO :"reader";
