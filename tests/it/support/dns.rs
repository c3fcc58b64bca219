//! An authoritative DNS server on loopback for the `--mx` tests
//! (hickory-server, in-process, UDP on 127.0.0.1 port 0).

use std::net::UdpSocket as StdUdpSocket;
use std::sync::Arc;

use hickory_server::Server;
use hickory_server::net::runtime::TokioRuntimeProvider;
use hickory_server::proto::rr::{LowerName, Name};
use hickory_server::proto::serialize::txt::Parser;
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};

/// One zone `test.` holds every name, so a name that is not there gets a
/// real NXDOMAIN. mx1 is on 127.0.0.2, where nothing listens.
const ZONE: &str = r#"
$ORIGIN test.
$TTL 60
@                 IN SOA  ns.test. hostmaster.test. 1 3600 600 86400 60
@                 IN NS   ns.test.
ns                IN A    127.0.0.1
example           IN MX   10 mx1.example.test.
example           IN MX   20 mx2.example.test.
mx1.example       IN A    127.0.0.2
mx2.example       IN A    127.0.0.1
nomx              IN A    127.0.0.1
null              IN MX   0 .
"#;

/// Starts the server on a thread of its own; returns its port. The socket
/// is bound before this returns, so queries can go at once.
pub fn start() -> u16 {
    let socket = StdUdpSocket::bind("127.0.0.1:0").expect("bind a UDP port");
    socket.set_nonblocking(true).expect("non-blocking");
    let port = socket.local_addr().expect("local addr").port();
    let origin = Name::from_ascii("test.").expect("origin");
    let (origin, records) = Parser::new(ZONE, None, Some(origin)).parse().expect("zone");
    let handler = InMemoryZoneHandler::<TokioRuntimeProvider>::new(
        origin.clone(),
        records,
        ZoneType::Primary,
        AxfrPolicy::Deny,
    )
    .expect("a valid zone");
    let mut catalog = Catalog::new();
    catalog.upsert(LowerName::from(origin), vec![Arc::new(handler)]);
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let socket = tokio::net::UdpSocket::from_std(socket).expect("from_std");
            let mut server = Server::new(catalog);
            server.register_socket(socket);
            let _ = server.block_until_done().await;
        });
    });
    port
}
