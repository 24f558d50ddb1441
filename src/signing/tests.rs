use std::os::unix::fs::PermissionsExt;

use super::*;

const KEY: &str = "manifests/customer1/20261124T020000Z-3fa91c~customer1-1767741527.json";
const BODY: &[u8] = br#"{"format":"graphvault-manifest"}"#;

fn new_key(dir: &std::path::Path, name: &str) -> (SigningKey, PublicKey) {
    let path = dir.join(name);
    let line = generate_signing_key(&path).unwrap();
    let key = SigningKey::from_file(&path).unwrap();
    let pk = load_public_key(&line).unwrap();
    assert_eq!(key_id(&pk), key_id(key.public()));
    (key, pk)
}

#[test]
fn generated_keys_are_private_never_overwritten_and_sign_what_they_load() {
    let dir = tempfile::tempdir().unwrap();
    let (key, pk) = new_key(dir.path(), "sign.key");
    let path = dir.path().join("sign.key");
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    let public = std::fs::read_to_string(dir.path().join("sign.key.pub")).unwrap();
    assert!(public.lines().nth(1).unwrap().starts_with("RW"), "{public}");
    assert!(matches!(
        generate_signing_key(&path),
        Err(SigningError::KeyExists { .. })
    ));
    let trust = ManifestTrust::new(vec![pk], false).unwrap();
    let sig = key.sign_manifest(KEY, BODY).unwrap();
    let verdict = trust.check(KEY, BODY, Some(sig.as_bytes())).unwrap();
    assert_eq!(
        verdict,
        Verdict::Signed {
            key_id: key_id(key.public())
        }
    );
}

#[test]
fn a_key_readable_by_others_is_refused_with_the_chmod_fix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sign.key");
    generate_signing_key(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let err = SigningKey::from_file(&path).unwrap_err().to_string();
    assert!(err.contains("chmod 600"), "{err}");
    std::fs::write(dir.path().join("junk.key"), "not a key\n").unwrap();
    std::fs::set_permissions(dir.path().join("junk.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = SigningKey::from_file(&dir.path().join("junk.key"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("generate-signing"), "{err}");
}

/// Every way a manifest can fail to be trusted, with what the error says.
#[test]
fn untrusted_manifests_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (key, pk) = new_key(dir.path(), "a.key");
    let (other, _) = new_key(dir.path(), "b.key");
    let trust = ManifestTrust::new(vec![pk], false).unwrap();
    let good = key.sign_manifest(KEY, BODY).unwrap();
    let other_key = KEY.replace("3fa91c", "000000");
    let replayed = key.sign_manifest(&other_key, BODY).unwrap();
    let by_stranger = other.sign_manifest(KEY, BODY).unwrap();
    type Case<'a> = (&'a str, &'a [u8], Option<&'a [u8]>, &'a str);
    let cases: &[Case] = &[
        ("no signature", BODY, None, "has no signature"),
        ("garbage signature", BODY, Some(b"hello"), "unreadable"),
        ("binary signature", BODY, Some(&[0xff, 0xfe]), "not text"),
        (
            "edited manifest",
            br#"{"format":"forged"}"#,
            Some(good.as_bytes()),
            "does not match",
        ),
        (
            "signature of another manifest",
            BODY,
            Some(replayed.as_bytes()),
            "another manifest",
        ),
        (
            "signed by an unknown key",
            BODY,
            Some(by_stranger.as_bytes()),
            "not in [signing] trusted_keys",
        ),
    ];
    for (case, body, sig, expect) in cases {
        let err = trust.check(KEY, body, *sig).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, SigningError::Untrusted { .. }), "{case}: {text}");
        assert!(text.contains(expect), "{case}: {text}");
        assert!(
            text.contains(KEY) && text.contains("--allow-unsigned"),
            "{case}: {text}"
        );
        let lenient = ManifestTrust::new(trust.keys.clone(), true).unwrap();
        assert!(
            matches!(lenient.check(KEY, body, *sig), Ok(Verdict::AcceptedUnsigned { .. })),
            "{case}: allowed when unsigned manifests are allowed"
        );
    }
}

#[test]
fn trusting_nothing_is_a_configuration_error() {
    assert!(matches!(
        ManifestTrust::new(Vec::new(), false),
        Err(SigningError::NoTrustedKeys)
    ));
    assert!(ManifestTrust::new(Vec::new(), true).unwrap().allows_unsigned());
    assert!(load_public_key("RWnot-a-key").is_err());
}
