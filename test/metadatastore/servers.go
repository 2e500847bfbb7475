package metadatastore

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pgBin is Debian's PostgreSQL 15.
const pgBin = "/usr/lib/postgresql/15/bin"

// serverTLS is what a database server is started with: its certificate and key (PEM) and the CA
// its clients' certificates must chain to.
type serverTLS struct {
	CertPEM, KeyPEM, ClientCAPEM []byte
}

// server is a database server started by the tests on loopback.
type server struct {
	Name string
	Port int
	Dir  string
	cmd  *exec.Cmd
	done chan error
}

// Stop ends the server's process (only the one this package started) and waits for it.
func (s *server) Stop() {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.done <- err
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		err := <-s.done
		s.done <- err
	}
}

// Log is the server's log file, for failure messages.
func (s *server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "server.log"))
	return string(b)
}

// runAs is the account database servers run under: when the tests run as root (PostgreSQL
// refuses to), nobody; otherwise nil, the current user.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("while looking up user nobody to run the database servers as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// command is exec.Command run as cred (nil: the current user).
func command(cred *syscall.Credential, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	return cmd
}

// ownedDir creates dir (0700) owned by cred.
func ownedDir(cred *syscall.Credential, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if cred != nil {
		return os.Chown(dir, int(cred.Uid), int(cred.Gid))
	}
	return nil
}

// writeOwned writes a file readable only by cred's user.
func writeOwned(cred *syscall.Credential, path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return err
	}
	if cred != nil {
		return os.Chown(path, int(cred.Uid), int(cred.Gid))
	}
	return nil
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// run runs cmd and returns its combined output in the error.
func run(cmd *exec.Cmd) error {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, out.String())
	}
	return nil
}

// startLogged starts cmd with its output in dir/server.log.
func startLogged(s *server, cmd *exec.Cmd) error {
	logFile, err := os.Create(filepath.Join(s.Dir, "server.log"))
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return fmt.Errorf("while starting %s: %w", cmd.Path, err)
	}
	s.cmd, s.done = cmd, make(chan error, 1)
	go func() { s.done <- cmd.Wait(); _ = logFile.Close() }()
	return nil
}

// waitFor polls ready until it succeeds, the server exits, or a minute passes.
func waitFor(s *server, ready func() error) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		err := ready()
		if err == nil {
			return nil
		}
		select {
		case exitErr := <-s.done:
			s.done <- exitErr
			return fmt.Errorf("%s exited (%v) before accepting connections:\n%s", s.Name, exitErr, s.Log())
		case <-ctx.Done():
			return fmt.Errorf("%s did not accept connections within a minute (%v):\n%s", s.Name, err, s.Log())
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// startPostgres initialises a PostgreSQL 15 cluster in dir and starts it on 127.0.0.1 with
// TLS (tlsFiles) required and client-certificate authentication for every TCP connection
// (`hostssl all all 127.0.0.1/32 cert`: the certificate's CN must be the user), then creates
// user and a database of the same name. Local socket connections are trusted, for the setup.
func startPostgres(dir, user, password string, tlsFiles serverTLS) (*server, error) {
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &server{Name: "PostgreSQL", Port: port, Dir: dir}
	data, sock := filepath.Join(dir, "data"), filepath.Join(dir, "sock")
	for _, d := range []string{dir, sock} {
		if err := ownedDir(cred, d); err != nil {
			return nil, err
		}
	}
	if err := run(command(cred, filepath.Join(pgBin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")); err != nil {
		return nil, err
	}
	files := map[string][]byte{"server.crt": tlsFiles.CertPEM, "server.key": tlsFiles.KeyPEM, "client-ca.crt": tlsFiles.ClientCAPEM}
	for name, b := range files {
		if err := writeOwned(cred, filepath.Join(dir, name), b); err != nil {
			return nil, err
		}
	}
	conf := fmt.Sprintf(`
listen_addresses = '127.0.0.1'
port = %d
unix_socket_directories = '%s'
ssl = on
ssl_cert_file = '%s'
ssl_key_file = '%s'
ssl_ca_file = '%s'
ssl_min_protocol_version = 'TLSv1.2'
fsync = off
`, port, sock, filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key"), filepath.Join(dir, "client-ca.crt"))
	f, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	_, err = f.WriteString(conf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	hba := "local all all trust\nhostssl all all 127.0.0.1/32 cert\n"
	if err := writeOwned(cred, filepath.Join(data, "pg_hba.conf"), []byte(hba)); err != nil {
		return nil, err
	}
	if err := startLogged(s, command(cred, filepath.Join(pgBin, "postgres"), "-D", data)); err != nil {
		return nil, err
	}
	psql := func(sql string) error {
		return run(exec.Command(filepath.Join(pgBin, "psql"), "-X", "-v", "ON_ERROR_STOP=1", "-h", sock, "-p", strconv.Itoa(port),
			"-U", "postgres", "-d", "postgres", "-c", sql))
	}
	if err := waitFor(s, func() error { return psql("SELECT 1") }); err != nil {
		s.Stop()
		return nil, err
	}
	for _, sql := range []string{
		fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", user, password),
		fmt.Sprintf("CREATE DATABASE %s OWNER %s", user, user),
	} {
		if err := psql(sql); err != nil {
			s.Stop()
			return nil, err
		}
	}
	return s, nil
}

// mariadbd is Debian's MariaDB server binary.
const mariadbd = "/usr/sbin/mariadbd"

// startMariaDB initialises a MariaDB data directory in dir and starts mariadbd on 127.0.0.1
// with TLS (tlsFiles) and secure transport required, then creates database db and user
// user@'%' with password and `REQUIRE SUBJECT '/CN=<user>'` (a client certificate with that
// subject, verified against the client CA, on top of the password).
func startMariaDB(dir, user, password, db string, tlsFiles serverTLS) (*server, error) {
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &server{Name: "MariaDB", Port: port, Dir: dir}
	data, sock := filepath.Join(dir, "data"), filepath.Join(dir, "mysqld.sock")
	if err := ownedDir(cred, dir); err != nil {
		return nil, err
	}
	install := []string{"--no-defaults", "--datadir=" + data, "--auth-root-authentication-method=normal", "--skip-test-db"}
	if cred != nil {
		install = append(install, "--user=nobody")
	}
	if err := run(command(cred, "mariadb-install-db", install...)); err != nil {
		return nil, err
	}
	files := map[string][]byte{"server.crt": tlsFiles.CertPEM, "server.key": tlsFiles.KeyPEM, "client-ca.crt": tlsFiles.ClientCAPEM}
	for name, b := range files {
		if err := writeOwned(cred, filepath.Join(dir, name), b); err != nil {
			return nil, err
		}
	}
	args := []string{
		"--no-defaults", "--datadir=" + data, "--socket=" + sock, "--pid-file=" + filepath.Join(dir, "mysqld.pid"),
		"--bind-address=127.0.0.1", "--port=" + strconv.Itoa(port), "--skip-name-resolve",
		"--ssl-cert=" + filepath.Join(dir, "server.crt"), "--ssl-key=" + filepath.Join(dir, "server.key"),
		"--ssl-ca=" + filepath.Join(dir, "client-ca.crt"), "--require-secure-transport=ON",
		"--innodb-flush-log-at-trx-commit=2", "--skip-log-bin",
	}
	if err := startLogged(s, command(cred, mariadbd, args...)); err != nil {
		return nil, err
	}
	sql := func(stmt string) error {
		return run(exec.Command("mariadb", "--no-defaults", "--socket="+sock, "-uroot", "-e", stmt))
	}
	if err := waitFor(s, func() error { return sql("SELECT 1") }); err != nil {
		s.Stop()
		return nil, err
	}
	for _, stmt := range []string{
		fmt.Sprintf("CREATE DATABASE %s CHARACTER SET utf8mb4", db),
		fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s' REQUIRE SUBJECT '/CN=%s'", user, password, user),
		fmt.Sprintf("GRANT ALL ON %s.* TO '%s'@'%%'", db, user),
	} {
		if err := sql(stmt); err != nil {
			s.Stop()
			return nil, err
		}
	}
	return s, nil
}
