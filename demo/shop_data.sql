-- A small shop, generated deterministically (no outside data): customers, products, orders, order lines.
-- psql variable :missing_orders (default 0) leaves out the newest orders — the "backup" that lags behind.
\if :{?missing_orders}
\else
\set missing_orders 0
\endif

CREATE TABLE customers (
  id         int PRIMARY KEY,
  name       text NOT NULL,
  email      text NOT NULL UNIQUE,
  country    text NOT NULL,
  created_at timestamptz NOT NULL
);
COMMENT ON TABLE customers IS 'people who buy from the shop';

CREATE TABLE products (
  id       int PRIMARY KEY,
  name     text NOT NULL,
  category text NOT NULL,
  price    numeric(10,2) NOT NULL CHECK (price > 0)
);
COMMENT ON TABLE products IS 'what the shop sells';

CREATE TABLE orders (
  id          int PRIMARY KEY,
  customer_id int NOT NULL REFERENCES customers,
  placed_at   timestamptz NOT NULL,
  status      text NOT NULL CHECK (status IN ('paid', 'shipped', 'delivered', 'refunded')),
  total       numeric(12,2) NOT NULL
);
COMMENT ON TABLE orders IS 'one purchase by one customer';

CREATE TABLE order_lines (
  order_id   int NOT NULL REFERENCES orders ON DELETE CASCADE,
  line_no    int NOT NULL,
  product_id int NOT NULL REFERENCES products,
  quantity   int NOT NULL CHECK (quantity > 0),
  unit_price numeric(10,2) NOT NULL,
  PRIMARY KEY (order_id, line_no)
);

INSERT INTO customers
SELECT g,
       (ARRAY['Ada','Grace','Alan','Edsger','Barbara','Donald','Frances','Ken','Margaret','Niklaus'])[1 + g % 10]
         || ' ' || (ARRAY['Lovelace','Hopper','Turing','Dijkstra','Liskov','Knuth','Allen','Thompson','Hamilton','Wirth'])[1 + (g / 10) % 10],
       'customer' || g || '@example.com',
       (ARRAY['DE','FR','US','JP','BR','IN'])[1 + g % 6],
       timestamptz '2024-01-01 00:00:00+00' + (g * interval '17 hours')
  FROM generate_series(1, 120) g;

INSERT INTO products
SELECT g,
       (ARRAY['Widget','Gadget','Gizmo','Doohickey','Sprocket'])[1 + g % 5] || ' ' || g,
       (ARRAY['tools','toys','garden','kitchen'])[1 + g % 4],
       round((3 + (g * 37) % 97 + (g % 7) * 0.25)::numeric, 2)
  FROM generate_series(1, 40) g;

INSERT INTO orders (id, customer_id, placed_at, status, total)
SELECT g,
       1 + (g * 7) % 120,
       timestamptz '2024-03-01 00:00:00+00' + (g * interval '9 hours 13 minutes'),
       (ARRAY['paid','shipped','delivered','delivered','delivered','refunded'])[1 + g % 6],
       0
  FROM generate_series(1, 600 - :missing_orders) g;

INSERT INTO order_lines
SELECT o.id, l, 1 + (o.id * 3 + l * 11) % 40, 1 + (o.id + l) % 4, p.price
  FROM orders o
 CROSS JOIN generate_series(1, 1 + o.id % 3) l
  JOIN products p ON p.id = 1 + (o.id * 3 + l * 11) % 40;

UPDATE orders o SET total = s.total
  FROM (SELECT order_id, sum(quantity * unit_price) AS total FROM order_lines GROUP BY order_id) s
 WHERE s.order_id = o.id;

ANALYZE;
