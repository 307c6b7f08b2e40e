//! Unit tests of the request checks: allow list, bearer token, basic auth.

use std::collections::HashMap;

use http::{HeaderMap, HeaderValue};

use super::*;

fn headers(auth: Option<&str>) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Some(a) = auth {
        h.insert(AUTHORIZATION, HeaderValue::from_str(a).expect("value"));
    }
    h
}

#[test]
fn allow_list_matches_mapped_ipv4() {
    let auth = Auth {
        allow: vec!["10.0.0.0/8".parse().expect("net"), "::1/128".parse().expect("net")],
        ..Auth::default()
    };
    assert!(auth.allowed("10.1.2.3".parse().expect("ip")).is_ok());
    assert!(auth.allowed("::ffff:10.1.2.3".parse().expect("ip")).is_ok());
    assert!(auth.allowed("::1".parse().expect("ip")).is_ok());
    assert_eq!(
        auth.allowed("192.0.2.1".parse().expect("ip")),
        Err(Denied::NotAllowed("192.0.2.1".parse().expect("ip")))
    );
    assert!(Auth::default().allowed("192.0.2.1".parse().expect("ip")).is_ok(), "no list admits everyone");
}

#[tokio::test]
async fn bearer_like_the_original() {
    let auth = Auth { bearer: Some(Token::new("s3cret")), ..Auth::default() };
    assert_eq!(auth.authorized(&headers(Some("Bearer s3cret"))).await, Ok(()));
    assert_eq!(auth.authorized(&headers(None)).await, Err(Denied::Missing));
    assert_eq!(auth.authorized(&headers(Some("bearer s3cret"))).await, Err(Denied::WrongScheme));
    assert_eq!(auth.authorized(&headers(Some("Bearers3cret"))).await, Err(Denied::WrongScheme));
    assert_eq!(auth.authorized(&headers(Some("Bearer wrong"))).await, Err(Denied::BadToken));
    assert_eq!(auth.authorized(&headers(Some("Bearer s3cret "))).await, Err(Denied::BadToken));
    assert_eq!(
        (Denied::Missing.status().as_u16(), Denied::Missing.body(true)),
        (401, "Authorization header is missing")
    );
    assert_eq!(
        (Denied::WrongScheme.status().as_u16(), Denied::WrongScheme.body(true)),
        (401, "Authorization header not of Bearer type")
    );
    assert_eq!(
        (Denied::BadToken.status().as_u16(), Denied::BadToken.body(true)),
        (401, "Invalid Bearer Token")
    );
    assert!(!format!("{:?}", Token::new("s3cret")).contains("s3cret"));
}

#[tokio::test]
async fn basic_auth_with_bcrypt_and_a_cache() {
    let hash = bcrypt::hash("pw", 4).expect("hash");
    let users = BasicUsers::new(HashMap::from([("prom".to_owned(), hash)])).expect("users");
    let auth = Auth { basic: Some(users), ..Auth::default() };
    use base64::Engine as _;
    let basic = |u: &str, p: &str| {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}")))
    };
    assert_eq!(auth.authorized(&headers(Some(&basic("prom", "pw")))).await, Ok(()));
    assert_eq!(auth.authorized(&headers(Some(&basic("prom", "pw")))).await, Ok(()), "cached");
    assert_eq!(
        auth.authorized(&headers(Some(&basic("prom", "nope")))).await,
        Err(Denied::BadCredentials("prom".into()))
    );
    assert_eq!(
        auth.authorized(&headers(Some(&basic("other", "pw")))).await,
        Err(Denied::BadCredentials("other".into()))
    );
    assert_eq!(auth.authorized(&headers(None)).await, Err(Denied::Missing));
    assert_eq!((Denied::Missing.status().as_u16(), Denied::Missing.body(false)), (401, "Unauthorized"));
}

#[tokio::test]
async fn basic_and_bearer_together_admit_either() {
    let hash = bcrypt::hash("pw", 4).expect("hash");
    let auth = Auth {
        bearer: Some(Token::new("t")),
        basic: Some(BasicUsers::new(HashMap::from([("u".to_owned(), hash)])).expect("users")),
        ..Auth::default()
    };
    assert_eq!(auth.authorized(&headers(Some("Bearer t"))).await, Ok(()));
    assert_eq!(auth.authorized(&headers(Some("Basic dTpwdw=="))).await, Ok(()));
    assert!(auth.authorized(&headers(Some("Bearer x"))).await.is_err());
}

#[test]
fn malformed_hashes_are_refused() {
    let e = BasicUsers::new(HashMap::from([("u".to_owned(), "plaintext".to_owned())])).unwrap_err();
    assert!(e.to_string().contains("\"u\"") && !e.to_string().contains("plaintext"));
}
