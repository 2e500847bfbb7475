// Package metadatastore proves the operator's metadata-store TLS against real database
// servers: Debian's PostgreSQL 15 and MariaDB 10.11, started on loopback by the tests with
// server certificates of a test CA, TLS required and client-certificate authentication
// (`hostssl ... cert` in pg_hba.conf; `REQUIRE SUBJECT '/CN=druid'` in MariaDB).
//
// For each case the operator's pure builders produce an ImplyCluster's objects (the common and
// group ConfigMaps, the metadata store's TLS Secret, the StatefulSet); the files and the
// environment of a master pod are rebuilt from the StatefulSet's pod template (its volumes,
// mounts and secretKeyRefs) in a temporary root; and testdata/JdbcProbe.java, compiled with
// javac, reads the rendered common.runtime.properties and connects with the real JDBC driver
// (pgjdbc, MySQL Connector/J, from Maven Central through hack/metadatastore/drivers.sh) the way
// Druid's postgresql-metadata-storage and mysql-metadata-storage extensions build their
// connection from those properties. Druid's extensions themselves are not served by the Maven
// Central these machines reach (see drivers.sh), so a coordinator cannot run on these stores.
//
// The local-run mapping: every file path a property names is looked up under the temporary
// root; hosts and ports are the test servers'. Nothing is skipped when a tool is missing:
// drivers.sh check fails the package, and .ci/run installs the servers.
package metadatastore
