use super::testing::{EXAMPLE_NETWORKS, country_database, write_country_database};
use super::*;
use std::fs;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// Moves the file's modification time on, as a copy made a while later would have it: two
/// writes within one timestamp tick must still count as two versions.
fn bump_mtime(path: &Path, seconds: u64) {
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::now() + Duration::from_secs(seconds))
        .unwrap();
}

fn korea_database(dir: &tempfile::TempDir) -> PathBuf {
    let path = dir.path().join("GeoLite2-Country.mmdb");
    write_country_database(&path, EXAMPLE_NETWORKS).unwrap();
    path
}

#[test]
fn lookups_answer_the_country_of_v4_and_v6_networks() {
    let dir = tempfile::tempdir().unwrap();
    let geoip = GeoIp::open(&korea_database(&dir)).unwrap();
    assert_eq!(geoip.country(ip("203.0.113.7")).as_deref(), Some("KR"));
    assert_eq!(geoip.country(ip("203.0.113.255")).as_deref(), Some("KR"));
    assert_eq!(geoip.country(ip("198.51.100.1")).as_deref(), Some("US"));
    assert_eq!(geoip.country(ip("2001:db8:1::42")).as_deref(), Some("FR"));
    assert_eq!(
        geoip.country(ip("2001:db8:1:ffff::1")).as_deref(),
        Some("FR")
    );
    assert_eq!(
        geoip.country(ip("::ffff:203.0.113.7")).as_deref(),
        Some("KR"),
        "an IPv4-mapped peer is looked up as IPv4"
    );
    for outside in [
        "203.0.112.255",
        "203.0.114.0",
        "192.0.2.1",
        "10.0.0.1",
        "2001:db8:2::1",
        "2001:db8::1",
        "::1",
    ] {
        assert_eq!(geoip.country(ip(outside)), None, "{outside}");
    }
}

#[test]
fn open_refuses_a_missing_unreadable_or_invalid_file_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.mmdb");
    let err = GeoIp::open(&missing).unwrap_err().to_string();
    assert!(
        err.contains("geoip_database") && err.contains("missing.mmdb") && err.contains("read"),
        "{err}"
    );
    let folder = GeoIp::open(dir.path()).unwrap_err().to_string();
    assert!(folder.contains("cannot read"), "{folder}");

    let garbage = dir.path().join("garbage.mmdb");
    fs::write(&garbage, b"not a database").unwrap();
    let err = GeoIp::open(&garbage).unwrap_err().to_string();
    assert!(err.contains("not a valid MaxMind DB file"), "{err}");

    let valid = country_database(EXAMPLE_NETWORKS);
    let truncated = dir.path().join("truncated.mmdb");
    fs::write(&truncated, &valid[..valid.len() / 2]).unwrap();
    assert!(GeoIp::open(&truncated).is_err(), "a half-written copy");
    // The metadata intact, a pointer in the tree broken: only the verification finds it.
    let mut broken = valid.clone();
    broken[0..3].copy_from_slice(&[0xff, 0xff, 0xff]);
    let broken_path = dir.path().join("broken.mmdb");
    fs::write(&broken_path, broken).unwrap();
    let err = GeoIp::open(&broken_path).unwrap_err().to_string();
    assert!(err.contains("not a valid MaxMind DB file"), "{err}");
}

#[test]
fn a_file_replaced_in_place_is_reread_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = korea_database(&dir);
    let geoip = GeoIp::open(&path).unwrap();
    assert!(
        !geoip.reload_if_changed().unwrap(),
        "unchanged: nothing is read"
    );
    write_country_database(&path, &[("203.0.113.0/24", "JP")]).unwrap();
    bump_mtime(&path, 60);
    assert!(geoip.reload_if_changed().unwrap());
    assert_eq!(geoip.country(ip("203.0.113.7")).as_deref(), Some("JP"));
    assert_eq!(
        geoip.country(ip("198.51.100.1")),
        None,
        "the new database answers alone"
    );
    assert!(!geoip.reload_if_changed().unwrap());
}

#[test]
fn a_file_replaced_by_rename_is_reread_even_with_the_old_mtime() {
    let dir = tempfile::tempdir().unwrap();
    let path = korea_database(&dir);
    let geoip = GeoIp::open(&path).unwrap();
    let old_mtime = fs::metadata(&path).unwrap().modified().unwrap();
    let next = dir.path().join("next.mmdb");
    // The same length as the first database: only the inode tells them apart.
    write_country_database(
        &next,
        &[
            ("203.0.113.0/24", "DE"),
            ("198.51.100.0/24", "US"),
            ("2001:db8:1::/48", "FR"),
        ],
    )
    .unwrap();
    fs::File::options()
        .write(true)
        .open(&next)
        .unwrap()
        .set_modified(old_mtime)
        .unwrap();
    fs::rename(&next, &path).unwrap();
    assert!(geoip.reload_if_changed().unwrap());
    assert_eq!(geoip.country(ip("203.0.113.7")).as_deref(), Some("DE"));
}

#[test]
fn a_corrupt_replacement_keeps_the_old_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = korea_database(&dir);
    let geoip = GeoIp::open(&path).unwrap();
    let valid = country_database(&[("203.0.113.0/24", "JP")]);
    fs::write(&path, &valid[..valid.len() - 20]).unwrap();
    bump_mtime(&path, 60);
    let err = geoip.reload_if_changed().unwrap_err().to_string();
    assert!(err.contains("not a valid MaxMind DB file"), "{err}");
    assert_eq!(geoip.country(ip("203.0.113.7")).as_deref(), Some("KR"));
    assert!(
        !geoip.reload_if_changed().unwrap(),
        "a refused version is not read again"
    );
    // The copy completes: the next version is read.
    fs::write(&path, &valid).unwrap();
    bump_mtime(&path, 120);
    assert!(geoip.reload_if_changed().unwrap());
    assert_eq!(geoip.country(ip("203.0.113.7")).as_deref(), Some("JP"));

    fs::remove_file(&path).unwrap();
    assert!(geoip.reload_if_changed().is_err());
    assert_eq!(
        geoip.country(ip("203.0.113.7")).as_deref(),
        Some("JP"),
        "a removed file keeps the database in use"
    );
}

#[tokio::test]
async fn the_watch_rereads_a_replaced_file_and_ends_with_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = korea_database(&dir);
    let geoip = Arc::new(GeoIp::open(&path).unwrap());
    let watch = geoip.watch(Duration::from_millis(10));
    write_country_database(&path, &[("203.0.113.0/24", "JP")]).unwrap();
    bump_mtime(&path, 60);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while geoip.country(ip("203.0.113.7")).as_deref() != Some("JP") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not reloaded within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(geoip);
    tokio::time::timeout(Duration::from_secs(5), watch)
        .await
        .expect("the watch ends once the database is dropped")
        .unwrap();
}

#[test]
fn country_codes_are_two_letters_upper_cased() {
    assert_eq!(country_code("kr").as_deref(), Some("KR"));
    assert_eq!(country_code(" US ").as_deref(), Some("US"));
    for unknown in ["", "X", "USA", "XX", "xx", "ZZ", "T1", "A1", "é1", "K R"] {
        assert_eq!(country_code(unknown), None, "{unknown:?}");
    }
}
