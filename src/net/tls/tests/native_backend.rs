//! The native-tls backend: it handshakes, reports the leaf and says what
//! it cannot; `--verify` lets the platform decide; without it, the leaf
//! checks smtpcli makes itself name what they find.

use super::*;

#[tokio::test]
async fn reports_the_leaf_and_says_what_it_cannot() {
    let pki = Pki::new();
    let (addr, _server) = serve(&pki, Serve::leaf(Leaf::Good)).await;
    let s = settings(Backend::Native, "localhost");
    let (stream, report) = run(addr, &s).await.unwrap();
    assert!(stream.is_tls());
    assert_eq!(report.backend, Backend::Native);
    assert!(
        matches!(report.verdict, Verdict::NotVerified(_)),
        "{}",
        report.verdict
    );
    assert_eq!(report.chain.len(), 1);
    assert_eq!(report.chain[0].subject, "CN=localhost");
    assert_eq!(report.chain[0].sans, ["localhost", "127.0.0.1"]);
    assert_eq!(report.protocol, None);
    assert_eq!(report.cipher, None);
    assert!(report.limitations.iter().any(|l| l.contains("cipher")));
    assert!(report.limitations.iter().any(|l| l.contains("chain")));
    assert_eq!(report.sni.as_deref(), Some("localhost"));
}

#[tokio::test]
async fn verify_trusts_a_good_chain_and_refuses_a_self_signed_one() {
    let pki = Pki::new();
    let (addr, _server) = serve(&pki, Serve::leaf(Leaf::Good)).await;
    let mut s = settings(Backend::Native, "localhost");
    s.verify = true;
    s.ca_file = Some(pki.ca_file());
    let (_, report) = run(addr, &s).await.unwrap();
    assert_eq!(report.verdict, Verdict::Trusted);

    let (addr, _server) = serve(&pki, Serve::leaf(Leaf::SelfSigned)).await;
    let err = run(addr, &s).await.unwrap_err();
    assert!(matches!(err, TlsError::Rejected(_)), "{err:?}");
}

#[tokio::test]
async fn the_leaf_checks_smtpcli_can_make_are_made() {
    let pki = Pki::new();
    let cases = [
        (Leaf::SelfSigned, "self-signed"),
        (Leaf::Expired, "expired on 2001-01-01"),
        (Leaf::NotYetValid, "not valid before 2090-01-01"),
        (Leaf::WrongName, "not for localhost"),
    ];
    for (leaf, words) in cases {
        let (addr, _server) = serve(&pki, Serve::leaf(leaf)).await;
        let s = settings(Backend::Native, "localhost");
        let (_, report) = run(addr, &s).await.unwrap();
        let verdict = report.verdict.to_string();
        assert!(verdict.contains(words), "{leaf:?}: {verdict}");
    }
}
