//! A real 3-node MariaDB Galera cluster on loopback (Debian's `galera-4`), and
//! HAProxy in front of app instances: the recipe of `../shared/CLUSTER.md`, run from
//! a temporary folder so the MariaDB on 3306 is untouched.
//!
//! Node n (1..=3) serves SQL on 331n; its group, IST and SST ports are 45n7, 45n8
//! and 44n4 (n = 1 gives 4567, 4568, 4444). Everything is killed, and the folder
//! removed, when the [`Galera`] is dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::unique;

const MARIADBD: &str = "/usr/sbin/mariadbd";
const PROVIDER: &str = "/usr/lib/galera/libgalera_smm.so";
pub const NODES: usize = 3;

pub struct Galera {
    dir: PathBuf,
    nodes: Vec<Option<Child>>,
}

impl Galera {
    /// Bootstraps node 1, then joins nodes 2 and 3 one at a time (each by rsync SST).
    /// Panics naming the missing package when the machine
    /// cannot run a cluster: a missing server is an error, never a skipped test.
    pub fn start() -> Self {
        for (path, package) in [
            (MARIADBD, "mariadb-server"),
            (PROVIDER, "galera-4"),
            ("/usr/bin/rsync", "rsync"),
            ("/usr/bin/ss", "iproute2"),
        ] {
            assert!(
                Path::new(path).exists(),
                "the Galera cluster test needs {path}: apt-get install {package} (.ci/run does)"
            );
        }
        for port in (1..=NODES).flat_map(node_ports) {
            assert!(
                std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
                "port {port} is taken: is another cluster test (or its leftovers) running?"
            );
        }
        let dir = std::env::temp_dir().join(format!("um-galera-{}", unique()));
        let mut cluster = Self {
            dir,
            nodes: (0..NODES).map(|_| None).collect(),
        };
        for n in 1..=NODES {
            std::fs::create_dir_all(cluster.node_dir(n).join("data")).unwrap();
            std::fs::write(cluster.node_dir(n).join("my.cnf"), cluster.config(n)).unwrap();
        }
        run(Command::new("chown")
            .args(["-R", "mysql:mysql"])
            .arg(&cluster.dir));
        run(Command::new("mariadb-install-db")
            .arg(format!("--defaults-file={}", cluster.cnf(1).display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"]));
        cluster.spawn(1, true);
        cluster.wait_synced(1);
        // Root over TCP (Debian's root@localhost is unix-socket only); the joiners
        // get the grant by SST.
        cluster.sql(
            1,
            "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
             GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;",
        );
        for n in 2..=NODES {
            cluster.start_node(n);
        }
        cluster
    }

    /// The server URL (no database) of node `n`.
    pub fn server_url(n: usize) -> String {
        format!("mysql://root@127.0.0.1:{}", sql_port(n))
    }

    /// Stops node `n` the way an operator or an orchestrator does (SIGTERM, a clean
    /// shutdown), and waits for the process to end.
    pub fn stop_node(&mut self, n: usize) {
        let mut child = self.nodes[n - 1].take().expect("the node is running");
        run(Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .stderr(Stdio::null()));
        let _ = child.wait();
    }

    /// Starts node `n` again (or for the first time) and waits until it has caught up
    /// with the cluster (`Synced`).
    pub fn start_node(&mut self, n: usize) {
        self.spawn(n, false);
        self.wait_synced(n);
    }

    /// A status variable of node `n`, read over its socket.
    pub fn status(&self, n: usize, name: &str) -> Option<String> {
        let out = Command::new("mariadb")
            .arg(format!(
                "--socket={}",
                self.node_dir(n).join("mysqld.sock").display()
            ))
            .args(["-uroot", "-N", "-B", "-e"])
            .arg(format!("SHOW GLOBAL STATUS LIKE '{name}'"))
            .stderr(Stdio::null())
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        text.split_whitespace().nth(1).map(str::to_owned)
    }

    /// One statement on node `n`, as root over its socket; its output as text.
    pub fn sql(&self, n: usize, statements: &str) -> String {
        let out = Command::new("mariadb")
            .arg(format!(
                "--socket={}",
                self.node_dir(n).join("mysqld.sock").display()
            ))
            .args(["-uroot", "-N", "-B", "-e", statements])
            .output()
            .expect("run the mariadb client");
        assert!(
            out.status.success(),
            "node {n} refused `{statements}`: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn spawn(&mut self, n: usize, bootstrap: bool) {
        assert!(self.nodes[n - 1].is_none(), "node {n} is already running");
        let mut command = Command::new(MARIADBD);
        // `--defaults-file` must come first, or /etc/mysql (the 3306 server's) is read too.
        command.arg(format!("--defaults-file={}", self.cnf(n).display()));
        if bootstrap {
            command.arg("--wsrep-new-cluster");
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mariadbd");
        self.nodes[n - 1] = Some(child);
    }

    fn wait_synced(&mut self, n: usize) {
        let started = Instant::now();
        while self.status(n, "wsrep_local_state_comment").as_deref() != Some("Synced") {
            if let Some(Ok(Some(exit))) = self.nodes[n - 1].as_mut().map(Child::try_wait) {
                panic!("node {n} exited ({exit}); its log:\n{}", self.log(n));
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "node {n} did not reach Synced in 120 s; its log:\n{}",
                self.log(n)
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn log(&self, n: usize) -> String {
        let log = std::fs::read_to_string(self.node_dir(n).join("error.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    fn node_dir(&self, n: usize) -> PathBuf {
        self.dir.join(format!("n{n}"))
    }

    fn cnf(&self, n: usize) -> PathBuf {
        self.node_dir(n).join("my.cnf")
    }

    fn config(&self, n: usize) -> String {
        let dir = self.node_dir(n);
        let dir = dir.display();
        let [sql, group, ist, sst] = node_ports(n);
        let members = (1..=NODES)
            .map(|m| format!("127.0.0.1:{}", node_ports(m)[1]))
            .collect::<Vec<_>>()
            .join(",");
        format!(
            "[mysqld]
user = mysql
datadir = {dir}/data
socket = {dir}/mysqld.sock
pid-file = {dir}/mysqld.pid
log-error = {dir}/error.log
port = {sql}
bind-address = 127.0.0.1
skip-name-resolve
innodb_buffer_pool_size = 64M
innodb_log_file_size = 32M
innodb_flush_log_at_trx_commit = 2
performance_schema = OFF
binlog_format = ROW
default_storage_engine = InnoDB
innodb_autoinc_lock_mode = 2
wsrep_on = ON
wsrep_provider = {PROVIDER}
wsrep_cluster_name = um_galera_test
wsrep_cluster_address = gcomm://{members}
wsrep_node_name = n{n}
wsrep_node_address = 127.0.0.1:{group}
wsrep_node_incoming_address = 127.0.0.1:{sql}
wsrep_provider_options = \"gmcast.listen_addr=tcp://127.0.0.1:{group};ist.recv_addr=127.0.0.1:{ist};gcache.size=64M\"
wsrep_sst_method = rsync
wsrep_sst_receive_address = 127.0.0.1:{sst}
wsrep_slave_threads = 2
"
        )
    }
}

impl Drop for Galera {
    fn drop(&mut self) {
        for child in self.nodes.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // The SST's rsync daemons are the nodes' children; none outlive a kill for long.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn sql_port(n: usize) -> u16 {
    node_ports(n)[0]
}

/// SQL, group communication, IST and SST ports of node `n`.
fn node_ports(n: usize) -> [u16; 4] {
    let step = 10 * (n as u16 - 1);
    [3310 + n as u16, 4567 + step, 4568 + step, 4444 + step]
}

fn run(command: &mut Command) {
    let out = command.output().expect("run a setup command");
    assert!(
        out.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// HAProxy (Debian's `haproxy`) in front of app instances: round robin, each
/// instance probed on `GET /ready` twice a second, out after two failures.
pub struct Haproxy {
    pub address: String,
    child: Child,
    dir: PathBuf,
    backends: usize,
}

impl Haproxy {
    pub const PORT: u16 = 18900;

    /// Starts HAProxy on [`Self::PORT`] in front of `backends` (`host:port` each).
    pub fn start(backends: &[String]) -> Self {
        assert!(
            Path::new("/usr/sbin/haproxy").exists(),
            "the cluster test needs HAProxy: apt-get install haproxy (.ci/run does)"
        );
        let dir = std::env::temp_dir().join(format!("um-haproxy-{}", unique()));
        std::fs::create_dir_all(&dir).unwrap();
        let servers: String = backends
            .iter()
            .enumerate()
            .map(|(i, address)| format!("    server app{} {address} check\n", i + 1))
            .collect();
        let config = format!(
            "defaults
    mode http
    option forwardfor
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    retries 1

frontend front
    bind 127.0.0.1:{port}
    default_backend apps

backend apps
    balance roundrobin
    option httpchk GET /ready
    http-check expect status 200
    default-server inter 500ms fall 2 rise 2
    http-response set-header X-Backend %[srv_name]
{servers}",
            port = Self::PORT
        );
        let cfg = dir.join("haproxy.cfg");
        std::fs::write(&cfg, config).unwrap();
        let child = Command::new("/usr/sbin/haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("start haproxy");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", Self::PORT)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "HAProxy did not listen"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            address: format!("http://127.0.0.1:{}", Self::PORT),
            child,
            dir,
            backends: backends.len(),
        }
    }

    /// Waits until HAProxy sends traffic to every backend again (each passed its
    /// health check twice in a row), e.g. after one was out while its node paused.
    pub async fn wait_until_all_serve(&self) {
        let client = self.client();
        let started = Instant::now();
        let mut seen = std::collections::HashSet::new();
        while seen.len() < self.backends {
            let res = client.get("/health").await;
            if let Some(name) = res.headers().get("x-backend").and_then(|v| v.to_str().ok()) {
                seen.insert(name.to_owned());
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "HAProxy serves only {seen:?} of {} backends",
                self.backends
            );
            if seen.len() < self.backends {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

impl Haproxy {
    /// A browser-like client at the proxy's address (its own cookie jar and Origin).
    pub fn client(&self) -> crate::Client {
        crate::Client::new(&self.address, Some(&self.address))
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
