//! The OCSP staple, checked against the leaf's issuer.

use super::*;

/// The OCSP staple, checked: signed by the leaf's issuer (or a responder
/// it delegated to), about the leaf, and current.
pub(super) fn staple(ssl: &SslRef) -> Staple {
    let Some(der) = ssl.ocsp_status() else {
        return Staple::Absent;
    };
    let Some(leaf) = ssl.peer_certificate() else {
        return Staple::Invalid("a staple came without a certificate".into());
    };
    let issuer = [ssl.verified_chain(), ssl.peer_cert_chain()]
        .into_iter()
        .flatten()
        .find_map(|chain| {
            chain
                .iter()
                .skip(1)
                .find(|c| c.issued(&leaf) == X509VerifyResult::OK)
                .map(ToOwned::to_owned)
        });
    let Some(issuer) = issuer else {
        return Staple::Invalid(
            "the leaf's issuer is not known here, so the staple cannot be checked".into(),
        );
    };
    check_staple(der, &leaf, &issuer).unwrap_or_else(Staple::Invalid)
}

pub(super) fn check_staple(der: &[u8], leaf: &X509Ref, issuer: &X509) -> Result<Staple, String> {
    let response = OcspResponse::from_der(der)
        .map_err(|_| "the staple is not an OCSP response (DER)".to_string())?;
    if response.status() != OcspResponseStatus::SUCCESSFUL {
        return Err(format!(
            "the responder answered with an error (status {})",
            response.status().as_raw()
        ));
    }
    let basic = response
        .basic()
        .map_err(|_| "the staple holds no basic OCSP response".to_string())?;
    let fail = |what: &'static str| move |e: ErrorStack| format!("{what}: {e}");
    let mut store = X509StoreBuilder::new().map_err(fail("checking the staple"))?;
    store
        .add_cert(issuer.clone())
        .map_err(fail("checking the staple"))?;
    store
        .set_flags(X509VerifyFlags::PARTIAL_CHAIN)
        .map_err(fail("checking the staple"))?;
    let store = store.build();
    let mut certs = Stack::new().map_err(fail("checking the staple"))?;
    certs
        .push(issuer.clone())
        .map_err(fail("checking the staple"))?;
    basic
        .verify(&certs, &store, OcspFlag::empty())
        .map_err(|_| "its signature does not verify against the leaf's issuer".to_string())?;
    let id = OcspCertId::from_cert(MessageDigest::sha1(), leaf, issuer)
        .map_err(fail("checking the staple"))?;
    let found = basic
        .find_status(&id)
        .ok_or_else(|| "it says nothing about this server's certificate".to_string())?;
    let status = match found.status {
        OcspCertStatus::GOOD => OcspStatus::Good,
        OcspCertStatus::REVOKED => OcspStatus::Revoked,
        _ => OcspStatus::Unknown,
    };
    let revoked = (status == OcspStatus::Revoked).then(|| {
        let when = found
            .revocation_time
            .map(|t| format!("on {t}"))
            .unwrap_or_else(|| "no date".into());
        match revocation_reason(found.reason) {
            Some(reason) => format!("{when}, {reason}"),
            None => when,
        }
    });
    // Five minutes of clock skew, as OpenSSL's own tools allow.
    let problem = found
        .check_validity(300, None)
        .err()
        .map(|_| "its dates are not current (stale, or not yet valid)".to_string());
    Ok(Staple::Status {
        status,
        revoked,
        this_update: found.this_update.to_string(),
        next_update: found.next_update().map(ToString::to_string),
        problem,
    })
}

pub(super) fn revocation_reason(reason: OcspRevokedStatus) -> Option<&'static str> {
    Some(match reason {
        OcspRevokedStatus::UNSPECIFIED => "reason unspecified",
        OcspRevokedStatus::KEY_COMPROMISE => "key compromise",
        OcspRevokedStatus::CA_COMPROMISE => "CA compromise",
        OcspRevokedStatus::AFFILIATION_CHANGED => "affiliation changed",
        OcspRevokedStatus::STATUS_SUPERSEDED => "superseded",
        OcspRevokedStatus::STATUS_CESSATION_OF_OPERATION => "cessation of operation",
        OcspRevokedStatus::STATUS_CERTIFICATE_HOLD => "certificate hold",
        OcspRevokedStatus::REMOVE_FROM_CRL => "removed from CRL",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_not_a_good_response_says_why() {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        let x509 = X509::from_der(cert.der()).unwrap();
        for (der, want) in [
            (&b""[..], "the staple is not an OCSP response (DER)"),
            (b"\x30\x03junk", "the staple is not an OCSP response (DER)"),
            (
                &[0x30, 0x03, 0x0a, 0x01, 0x01],
                "the responder answered with an error (status 1)",
            ),
        ] {
            assert_eq!(check_staple(der, &x509, &x509), Err(want.to_string()));
        }
    }
}
