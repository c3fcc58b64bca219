//! An authoritative DNS server on loopback for the `--mx` tests
//! (hickory-server, in-process, UDP on 127.0.0.1 port 0).

use std::net::UdpSocket as StdUdpSocket;
use std::sync::Arc;

use hickory_server::Server;
use hickory_server::net::runtime::TokioRuntimeProvider;
use hickory_server::proto::rr::rdata::MX;
use hickory_server::proto::rr::{
    Label, LowerName, Name, RData, Record, RecordSet, RecordType, RrKey,
};
use hickory_server::proto::serialize::txt::Parser;
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};

/// One zone `test.` holds every name, so a name that is not there gets a
/// real NXDOMAIN. mx1 is on 127.0.0.2, where nothing listens; so are the
/// seven MX hosts of many.test. The MX of hostile.test has control
/// characters in its name, and no address.
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
; seven MX hosts of three addresses each, where nothing listens
many              IN MX   10 m1.many.test.
many              IN MX   20 m2.many.test.
many              IN MX   30 m3.many.test.
many              IN MX   40 m4.many.test.
many              IN MX   50 m5.many.test.
many              IN MX   60 m6.many.test.
many              IN MX   70 m7.many.test.
m1.many           IN A    127.0.1.1
m1.many           IN A    127.0.1.2
m1.many           IN A    127.0.1.3
m2.many           IN A    127.0.2.1
m2.many           IN A    127.0.2.2
m2.many           IN A    127.0.2.3
m3.many           IN A    127.0.3.1
m3.many           IN A    127.0.3.2
m3.many           IN A    127.0.3.3
m4.many           IN A    127.0.4.1
m4.many           IN A    127.0.4.2
m4.many           IN A    127.0.4.3
m5.many           IN A    127.0.5.1
m5.many           IN A    127.0.5.2
m5.many           IN A    127.0.5.3
m6.many           IN A    127.0.6.1
m6.many           IN A    127.0.6.2
m6.many           IN A    127.0.6.3
m7.many           IN A    127.0.7.1
m7.many           IN A    127.0.7.2
m7.many           IN A    127.0.7.3
"#;

/// Starts the server on a thread of its own; returns its port. The socket
/// is bound before this returns, so queries can go at once.
pub fn start() -> u16 {
    let socket = StdUdpSocket::bind("127.0.0.1:0").expect("bind a UDP port");
    socket.set_nonblocking(true).expect("non-blocking");
    let port = socket.local_addr().expect("local addr").port();
    let origin = Name::from_ascii("test.").expect("origin");
    let (origin, mut records) = Parser::new(ZONE, None, Some(origin)).parse().expect("zone");
    // hostile.test: an MX whose name carries a window-title escape
    // (ESC ] 0 ; … BEL) and a right-to-left override, which no zone file
    // may hold.
    let evil = Label::from_raw_bytes("evil\x1b]0;owned\x07\u{202e}".as_bytes()).expect("label");
    let exchange = Name::from_labels([evil])
        .expect("name")
        .append_domain(&Name::from_ascii("hostile.test.").expect("name"))
        .expect("name");
    let owner = Name::from_ascii("hostile.test.").expect("owner");
    let record = Record::from_rdata(owner.clone(), 60, RData::MX(MX::new(10, exchange)));
    records.insert(
        RrKey::new(LowerName::from(&owner), RecordType::MX),
        RecordSet::from(record),
    );
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
