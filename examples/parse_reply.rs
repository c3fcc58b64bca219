// Feeds a multi-line reply, captured from Postfix, to smtpcli's sans-IO reply
// parser in awkward chunks, and prints each reply decoded: code, enhanced code
// and its registry title, anomalies. Needs no server: `cargo run --example parse_reply`.

use smtpcli::proto::reply::ReplyParser;

fn main() {
    let captured: &[u8] = b"250-mailserver.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n\
250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250 CHUNKING\r\n\
550 5.1.1 <nosuchuser@example.org>: Recipient address rejected: User unknown\r\n\
250 bare line feed\n";

    let mut parser = ReplyParser::new();
    // Bytes arrive from a socket in whatever pieces the network chose.
    for chunk in captured.chunks(7) {
        parser.feed(chunk);
        while let Some(reply) = parser.next_reply() {
            let code = reply.code().map_or("???".to_string(), |c| c.to_string());
            println!("reply {code}, {} line(s)", reply.lines.len());
            for text in reply.line_texts() {
                println!("  | {}", text.escaped());
            }
            if let Some(enhanced) = reply.enhanced_code() {
                let title = enhanced
                    .explain()
                    .detail
                    .map_or("not registered", |d| d.title);
                println!("  enhanced {enhanced}: {title}");
            }
            for anomaly in &reply.anomalies {
                println!("  anomaly: {anomaly}");
            }
        }
    }
}
