import java.io.File;
import java.io.FileInputStream;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Opens one connection to Druid's metadata store from a rendered common.runtime.properties, the
 * way Druid's metadata-storage extensions build it (apache/druid MySQLConnector and
 * PostgreSQLConnector: the driver class, druid.metadata.storage.connector.connectURI as the URL,
 * and connection properties derived from druid.metadata.{mysql,postgres}.ssl.*), then reports
 * who it is connected as and over which TLS version.
 *
 * Usage: java -cp DRIVER.jar:DIR JdbcProbe ROOT PROPERTIES_FILE QUERY
 *
 * ROOT is where the pod's files were rebuilt: every file path a property names is looked up
 * under it. Passwords come through Druid's environment password provider, so from this
 * process's environment, as do the user (druid_metadata_storage_connector_user) and nothing
 * else. QUERY returns two columns: the user and the TLS version. Prints "OK <user> <tls>" and
 * exits 0, or "FAIL" with the chain of causes and exits 1.
 */
public final class JdbcProbe {
  private static String root;

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: JdbcProbe ROOT PROPERTIES_FILE QUERY");
      System.exit(2);
    }
    root = args[0];
    Properties druid = new Properties();
    try (InputStream in = new FileInputStream(args[1])) {
      druid.load(in);
    }
    String type = druid.getProperty("druid.metadata.storage.type");
    String url = druid.getProperty("druid.metadata.storage.connector.connectURI");
    Properties conn = new Properties();
    String user = druid.getProperty("druid.metadata.storage.connector.user", System.getenv("druid_metadata_storage_connector_user"));
    conn.setProperty("user", user);
    conn.setProperty("password", password(druid.getProperty("druid.metadata.storage.connector.password")));
    String driverClass;
    if ("postgresql".equals(type)) {
      driverClass = "org.postgresql.Driver";
      postgres(druid, conn);
    } else if ("mysql".equals(type)) {
      driverClass = "com.mysql.jdbc.Driver"; // MySQLConnectorDriverConfig's default
      mysql(druid, conn);
    } else {
      throw new IllegalArgumentException("metadata storage type " + type);
    }
    Driver driver = (Driver) Class.forName(driverClass).getDeclaredConstructor().newInstance();
    try (Connection c = driver.connect(url, conn)) {
      if (c == null) {
        throw new IllegalStateException("the driver does not accept " + url);
      }
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(args[2])) {
        if (!rs.next()) {
          throw new IllegalStateException("the query returned no row");
        }
        System.out.println("OK " + rs.getString(1) + " " + rs.getString(2));
      }
    } catch (Exception e) {
      StringBuilder sb = new StringBuilder("FAIL");
      for (Throwable t = e; t != null; t = t.getCause()) {
        sb.append("\n  ").append(t.getClass().getName()).append(": ").append(t.getMessage());
      }
      System.out.println(sb);
      System.exit(1);
    }
  }

  /** PostgreSQLConnector: with useSSL, each set property becomes the pgjdbc property. */
  private static void postgres(Properties druid, Properties conn) {
    String pre = "druid.metadata.postgres.ssl.";
    if (!Boolean.parseBoolean(druid.getProperty(pre + "useSSL", "false"))) {
      return;
    }
    conn.setProperty("ssl", "true");
    String pw = druid.getProperty(pre + "sslPassword");
    if (pw != null) {
      conn.setProperty("sslpassword", password(pw));
    }
    copy(druid, pre + "sslFactory", conn, "sslfactory", false);
    copy(druid, pre + "sslFactoryArg", conn, "sslfactoryarg", false);
    copy(druid, pre + "sslMode", conn, "sslmode", false);
    copy(druid, pre + "sslCert", conn, "sslcert", true);
    copy(druid, pre + "sslKey", conn, "sslkey", true);
    copy(druid, pre + "sslRootCert", conn, "sslrootcert", true);
    copy(druid, pre + "sslHostNameVerifier", conn, "sslhostnameverifier", false);
    copy(druid, pre + "sslPasswordCallback", conn, "sslpasswordcallback", false);
  }

  /**
   * MySQLConnector: useSSL always; with it verifyServerCertificate, the trust store only when
   * verifying, the client key store, and the lists joined with commas. Key store paths become
   * file: URLs (new File(path).toURI()).
   */
  private static void mysql(Properties druid, Properties conn) {
    String pre = "druid.metadata.mysql.ssl.";
    boolean useSSL = Boolean.parseBoolean(druid.getProperty(pre + "useSSL", "false"));
    conn.setProperty("useSSL", String.valueOf(useSSL));
    if (!useSSL) {
      return;
    }
    boolean verify = Boolean.parseBoolean(druid.getProperty(pre + "verifyServerCertificate", "false"));
    conn.setProperty("verifyServerCertificate", String.valueOf(verify));
    if (verify) {
      String trust = druid.getProperty(pre + "trustCertificateKeyStoreUrl");
      if (trust != null) {
        conn.setProperty("trustCertificateKeyStoreUrl", new File(root + trust).toURI().toString());
      }
      copy(druid, pre + "trustCertificateKeyStoreType", conn, "trustCertificateKeyStoreType", false);
      String pw = druid.getProperty(pre + "trustCertificateKeyStorePassword");
      if (pw != null) {
        conn.setProperty("trustCertificateKeyStorePassword", password(pw));
      }
    }
    String keystore = druid.getProperty(pre + "clientCertificateKeyStoreUrl");
    if (keystore != null) {
      conn.setProperty("clientCertificateKeyStoreUrl", new File(root + keystore).toURI().toString());
    }
    copy(druid, pre + "clientCertificateKeyStoreType", conn, "clientCertificateKeyStoreType", false);
    String pw = druid.getProperty(pre + "clientCertificateKeyStorePassword");
    if (pw != null) {
      conn.setProperty("clientCertificateKeyStorePassword", password(pw));
    }
    String suites = druid.getProperty(pre + "enabledSSLCipherSuites");
    if (suites != null) {
      conn.setProperty("enabledSSLCipherSuites", String.join(",", jsonStrings(suites)));
    }
    String protocols = druid.getProperty(pre + "enabledTLSProtocols");
    if (protocols != null) {
      conn.setProperty("enabledTLSProtocols", String.join(",", jsonStrings(protocols)));
    }
  }

  private static void copy(Properties from, String key, Properties to, String name, boolean path) {
    String v = from.getProperty(key);
    if (v != null) {
      to.setProperty(name, path ? root + v : v);
    }
  }

  /** A Druid password: a plain string or {"type":"environment","variable":"NAME"}. */
  private static String password(String value) {
    if (value == null) {
      return null;
    }
    if (!value.trim().startsWith("{")) {
      return value;
    }
    if (!value.matches("(?s).*\"type\"\\s*:\\s*\"environment\".*")) {
      throw new IllegalArgumentException("only the environment password provider is supported here");
    }
    Matcher m = Pattern.compile("\"variable\"\\s*:\\s*\"([^\"]+)\"").matcher(value);
    if (!m.find()) {
      throw new IllegalArgumentException("environment password provider without a variable");
    }
    String v = System.getenv(m.group(1));
    if (v == null) {
      throw new IllegalArgumentException("environment variable " + m.group(1) + " is not set");
    }
    return v;
  }

  /** The strings of a JSON array of strings (no escapes inside, as Druid's lists here). */
  private static List<String> jsonStrings(String json) {
    List<String> out = new ArrayList<>();
    Matcher m = Pattern.compile("\"([^\"]*)\"").matcher(json);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }
}
