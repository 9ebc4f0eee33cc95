//! Frames of upstream visl (Linux 6.12.117, Debian linux-source 6.12.117-1) recorded by
//! gen/record_reference.py: every case must render to the same md5 here.

mod common;

#[test]
fn md5_known_answers() {
    assert_eq!(common::md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(
        common::md5_hex(b"The quick brown fox jumps over the lazy dog"),
        "9e107d9d372bb6826bd81d3542a419d6"
    );
}

#[test]
fn frames_match_c_visl() {
    let cases = common::reference_cases();
    assert!(!cases.is_empty());
    let failed: Vec<String> = cases
        .iter()
        .filter(|c| common::md5_hex(&c.render()) != c.md5)
        .map(|c| format!("FAIL {}", c.name()))
        .collect();
    assert!(failed.is_empty(), "{} of {} cases differ:\n{}", failed.len(), cases.len(), failed.join("\n"));
}
