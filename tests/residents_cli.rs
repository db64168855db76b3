//! `guardroom residents import`: a good CSV file becomes the TOML residents
//! file the configuration names, and a file with bad rows is reported row
//! by row with nothing written.

mod support;

use guardroom::domain::care::parse_toml;
use support::Home;

const GOOD: &str = "\
id,name,building,unit,room,phone,lives_alone,contact1_name,contact1_relation,contact1_phone,check_in_start,check_in_end
r-0101,测试员甲,1栋,2单元,301,138 0000 0101,是,测试员乙,女儿,13800000102,07:00,10:00
r-0102,测试员丙,1栋,2单元,302,,否,,,,,
";

const BAD: &str = "\
id,name,building,room,phone,check_in_start,check_in_end
r-0201,测试员丁,2栋,101,138 0000 0201,07:00,10:00
r-0202,,2栋,102,,,
r-0203,测试员戊,2栋,103,12345,25:00,10:00
";

fn write_config(home: &Home) -> std::path::PathBuf {
    let path = home.path().join("guardroom.toml");
    std::fs::write(
        &path,
        "[site]\nid = \"residents\"\n\n[care]\nresidents = \"registry/residents.toml\"\n",
    )
    .unwrap();
    path
}

#[test]
fn import_writes_configured_file() {
    let home = Home::new();
    let config = write_config(&home);
    let csv = home.path().join("residents.csv");
    std::fs::write(&csv, GOOD).unwrap();

    let output = home.run(&[
        "--lang",
        "en",
        "--config",
        config.to_str().unwrap(),
        "residents",
        "import",
        csv.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let written = home.path().join("registry").join("residents.toml");
    assert!(
        stdout.contains("Imported 2 residents") && stdout.contains(&*written.to_string_lossy()),
        "says how many and where: {stdout}"
    );
    assert!(
        !stdout.contains("add it under [care]"),
        "the configuration already names the file: {stdout}"
    );

    let residents = parse_toml(&std::fs::read_to_string(&written).unwrap()).unwrap();
    assert_eq!(residents.len(), 2);
    assert_eq!(residents[0].id, "r-0101");
    assert_eq!(residents[0].name, "测试员甲");
    assert_eq!(residents[0].contacts.len(), 1);
    assert!(residents[0].lives_alone);
    assert!(residents[0].check_in.is_some());
    assert!(residents[1].check_in.is_none(), "the site's window applies");

    let check = home.run(&["--config", config.to_str().unwrap(), "check-config"]);
    assert!(
        check.status.success(),
        "the written file is a valid registry: {}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn import_without_configured_file_says_where() {
    let home = Home::new();
    let config = home.path().join("guardroom.toml");
    std::fs::write(&config, "[site]\nid = \"residents\"\n").unwrap();
    let csv = home.path().join("residents.csv");
    std::fs::write(&csv, GOOD).unwrap();

    let output = home.run(&[
        "--lang",
        "en",
        "--config",
        config.to_str().unwrap(),
        "residents",
        "import",
        csv.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let written = home.path().join("residents.toml");
    assert!(written.is_file(), "written beside the configuration");
    assert!(
        stdout.contains("residents = "),
        "tells how to configure it: {stdout}"
    );
}

#[test]
fn bad_rows_named_nothing_stored() {
    let home = Home::new();
    let config = write_config(&home);
    let csv = home.path().join("residents.csv");
    std::fs::write(&csv, BAD).unwrap();

    let output = home.run(&[
        "--lang",
        "en",
        "--config",
        config.to_str().unwrap(),
        "residents",
        "import",
        csv.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "bad rows fail the import");
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    assert!(stderr.contains("line 3, column 2 (name)"), "{stderr}");
    assert!(stderr.contains("line 4, column 5 (phone)"), "{stderr}");
    assert!(
        stderr.contains("line 4, column 6 (check_in_start)"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("line 2,"),
        "the good row is not reported: {stderr}"
    );
    assert!(
        !home.path().join("registry").exists(),
        "nothing is written while a row is bad"
    );
}

#[test]
fn bad_rows_in_chinese() {
    let home = Home::new();
    let config = write_config(&home);
    let csv = home.path().join("residents.csv");
    std::fs::write(&csv, BAD).unwrap();
    let output = home.run(&[
        "--lang",
        "zh-CN",
        "--config",
        config.to_str().unwrap(),
        "residents",
        "import",
        csv.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("第 3 行，第 2 列（name）"), "{stderr}");
}

#[test]
fn example_registry_is_valid() {
    let text = include_str!("../config/residents.toml");
    let residents = parse_toml(text).unwrap_or_else(|problems| panic!("{problems:?}"));
    assert_eq!(residents.len(), 3);
    for resident in &residents {
        for phone in resident
            .phone
            .iter()
            .chain(resident.contacts.iter().map(|c| &c.phone))
        {
            assert!(
                phone.starts_with("1380000"),
                "example phone numbers are invented ones: {phone}"
            );
        }
    }
}
