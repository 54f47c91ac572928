// What a JDBC-based BI tool (Tableau, Power BI's JDBC path, DBeaver, Metabase's generic sync) learns about a
// relation through pgjdbc, printed one fact per line for test/t/041_bi_clients.pl to compare: the tables and
// views of a schema (getTables for {"TABLE","VIEW"}, with REMARKS), a relation's columns (getColumns), the
// columns of a statement prepared but never run (PreparedStatement.getMetaData), and optionally the rows of a
// statement. Fields are separated by tabs; NULL prints as \N.
//
//   java -cp /usr/share/java/postgresql.jar:DIR JdbcMetadata URL USER PASSWORD SCHEMA RELATION [SQL]
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.Properties;

public final class JdbcMetadata {
    private JdbcMetadata() {}

    private static String field(String value) {
        return value == null ? "\\N" : value.replace("\t", "\\t").replace("\n", "\\n");
    }

    private static void print(String... fields) {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < fields.length; i++) {
            if (i > 0) line.append('\t');
            line.append(field(fields[i]));
        }
        System.out.println(line);
    }

    public static void main(String[] args) throws SQLException {
        if (args.length < 5) {
            System.err.println("usage: JdbcMetadata URL USER PASSWORD SCHEMA RELATION [SQL]");
            System.exit(2);
        }
        Properties properties = new Properties();
        properties.setProperty("user", args[1]);
        properties.setProperty("password", args[2]);
        properties.setProperty("ApplicationName", "JdbcMetadata");
        String schema = args[3];
        String relation = args[4];
        try (Connection connection = DriverManager.getConnection(args[0], properties)) {
            DatabaseMetaData meta = connection.getMetaData();
            try (ResultSet tables = meta.getTables(null, schema, "%", new String[] {"TABLE", "VIEW"})) {
                while (tables.next()) {
                    print("table", tables.getString("TABLE_SCHEM"), tables.getString("TABLE_NAME"),
                          tables.getString("TABLE_TYPE"), tables.getString("REMARKS"));
                }
            }
            try (ResultSet columns = meta.getColumns(null, schema, relation, "%")) {
                while (columns.next()) {
                    print("column", columns.getString("COLUMN_NAME"), columns.getString("TYPE_NAME"),
                          columns.getString("DATA_TYPE"), columns.getString("COLUMN_SIZE"),
                          columns.getString("DECIMAL_DIGITS"));
                }
            }
            // Prepared, described, never executed: what a tool learns of a query before running it.
            String quoted = "\"" + schema.replace("\"", "\"\"") + "\".\"" + relation.replace("\"", "\"\"") + "\"";
            try (PreparedStatement statement = connection.prepareStatement("SELECT * FROM " + quoted)) {
                ResultSetMetaData described = statement.getMetaData();
                for (int i = 1; i <= described.getColumnCount(); i++) {
                    print("prepared", described.getColumnName(i), described.getColumnTypeName(i),
                          Integer.toString(described.getColumnType(i)), Integer.toString(described.getPrecision(i)),
                          Integer.toString(described.getScale(i)));
                }
            }
            if (args.length > 5) {
                try (PreparedStatement statement = connection.prepareStatement(args[5]);
                     ResultSet rows = statement.executeQuery()) {
                    int width = rows.getMetaData().getColumnCount();
                    while (rows.next()) {
                        String[] fields = new String[width + 1];
                        fields[0] = "row";
                        for (int i = 1; i <= width; i++) fields[i] = rows.getString(i);
                        print(fields);
                    }
                }
            }
        }
    }
}
