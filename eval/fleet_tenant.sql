-- One tenant of the eval's fleet, generated deterministically from its number (psql variable :i, 1 …): the tenants
-- differ in how many customers and orders they have (no two of the first 61 the same number of orders) and what the
-- orders are worth. :migrated says whether the tenant got the migration that records each order's sales channel
-- (the tenants that did not are the fleet's variant: the same schema without orders.channel).
INSERT INTO customers
SELECT c, 'customer ' || c, (ARRAY['DE', 'FR', 'NL', 'SE'])[1 + (c + :i) % 4]
  FROM generate_series(1, 5 + :i % 7) c;
INSERT INTO orders
SELECT g, 1 + g % (5 + :i % 7), date '2026-01-01' + (g * 7 + :i) % 180, round(5 + (g * 37 + :i * 11) % 90 + :i * 0.25, 2)
  FROM generate_series(1, 20 + (:i * 37) % 61) g;
\if :migrated
ALTER TABLE orders ADD COLUMN channel text NOT NULL DEFAULT 'web';
UPDATE orders SET channel = (ARRAY['web', 'store', 'phone'])[1 + (id + :i) % 3];
\endif
