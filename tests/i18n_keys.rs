//! Every message key the source looks up with a literal exists in both
//! catalogs, so no screen shows a raw key or falls back to English.

use std::path::Path;

use guardroom::i18n::{Lang, keys};

/// Collects literal keys passed to `.t(…)`, `.tf(…)` and `.try_t(…)`.
fn literal_keys(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    for call in [".t(", ".tf(", ".try_t("] {
        let mut rest = source;
        while let Some(at) = rest.find(call) {
            rest = &rest[at + call.len()..];
            let trimmed = rest.trim_start();
            let Some(literal) = trimmed.strip_prefix('"') else {
                continue;
            };
            if let Some(end) = literal.find('"') {
                let key = &literal[..end];
                // Keys built with format! are checked by their own tests.
                if !key.contains('{') {
                    found.push(key.to_owned());
                }
            }
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn literal_keys_exist_in_both_languages() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let en = keys(Lang::En);
    let zh = keys(Lang::ZhCn);
    let mut checked = 0;
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        for key in literal_keys(&source) {
            checked += 1;
            assert!(
                en.contains(&key.as_str()),
                "{key} used in {} is missing in en",
                file.display()
            );
            assert!(
                zh.contains(&key.as_str()),
                "{key} used in {} is missing in zh-CN",
                file.display()
            );
        }
    }
    assert!(
        checked > 50,
        "found only {checked} keys; is the scanner broken?"
    );
}

#[test]
fn every_status_and_kind_is_translated() {
    use guardroom::domain::device::{DetectorClass, ReportedState};
    use guardroom::domain::{DeviceKind, DeviceStatus};
    let mut expected: Vec<String> = Vec::new();
    expected.extend(
        DeviceStatus::ALL
            .iter()
            .map(|s| format!("device_status.{}", s.as_str())),
    );
    expected.extend(
        DeviceKind::ALL
            .iter()
            .map(|k| format!("kind.{}", k.as_str())),
    );
    expected.extend(
        DetectorClass::ALL
            .iter()
            .map(|c| format!("class.{}", c.as_str())),
    );
    expected.extend(
        ReportedState::ALL
            .iter()
            .map(|s| format!("state.{}", s.as_str())),
    );
    for code in [
        "empty",
        "oversized",
        "not_utf8",
        "too_deep",
        "invalid_json",
        "not_an_object",
        "unsupported_version",
        "bad_field",
        "bad_topic",
    ] {
        expected.push(format!("data_error.{code}"));
    }
    for lang in [Lang::En, Lang::ZhCn] {
        let present = keys(lang);
        for key in &expected {
            assert!(
                present.contains(&key.as_str()),
                "{key} missing in {}",
                lang.code()
            );
        }
    }
}

#[test]
fn every_alarm_word_is_translated() {
    use guardroom::domain::alarm::{
        ActionKind, Change, Condition, Disposition, Priority, Refusal, Shown,
    };
    use guardroom::ui::dialog::ShelveFor;
    use guardroom::ui::keymap::BINDINGS;

    let mut expected: Vec<String> = Vec::new();
    for condition in Condition::ALL {
        expected.push(format!("condition.{}", condition.as_str()));
        expected.push(format!("sop.{}", condition.as_str()));
    }
    for priority in Priority::ALL {
        expected.push(format!(
            "priority.{}",
            priority.as_str().to_ascii_lowercase()
        ));
    }
    for shown in Shown::ALL {
        expected.push(format!("shown.{}", shown.as_str()));
        expected.push(format!("shown_short.{}", shown.as_str()));
    }
    for disposition in Disposition::CHOSEN {
        expected.push(format!("disposition.{}", disposition.as_str()));
    }
    expected.push(format!(
        "disposition.{}",
        Disposition::ClosedAtSource.as_str()
    ));
    let changes = [
        Change::Repeated,
        Change::Cleared,
        Change::Escalated,
        Change::ShelveExpired,
        Change::Suppressed { on: true },
        Change::Suppressed { on: false },
        Change::Flapped { count: 1 },
        Change::ClosedAtSource,
    ];
    expected.push("transition.raised".into());
    for change in changes {
        expected.push(format!("transition.{}", change.as_str()));
    }
    let actions = [
        ActionKind::Acknowledge,
        ActionKind::Close {
            disposition: Disposition::Genuine,
        },
        ActionKind::Reset,
        ActionKind::Shelve { until: None },
        ActionKind::Unshelve,
        ActionKind::Remark,
        ActionKind::Silence,
        ActionKind::OutOfService {
            device: String::new(),
            on: true,
        },
        ActionKind::OutOfService {
            device: String::new(),
            on: false,
        },
    ];
    for action in &actions {
        expected.push(format!("transition.{}", action.as_str()));
        expected.push(format!("done.{}", action.as_str()));
    }
    let refusals = [
        Refusal::Unknown(1),
        Refusal::Closed(1),
        Refusal::AlreadyAcknowledged(1),
        Refusal::ShelveP1,
        Refusal::AlreadyShelved(1),
        Refusal::NotShelved(1),
        Refusal::ShelveTime { max_h: 24 },
        Refusal::LatchedActive(1),
        Refusal::NeedsReset(1),
        Refusal::NotLatched(1),
        Refusal::StillActive(1),
        Refusal::RemarkRequired("remark"),
        Refusal::NothingSounding,
        Refusal::ServiceUnchanged(String::new()),
    ];
    for refusal in &refusals {
        expected.push(format!("refusal.{}", refusal.code()));
    }
    for what in [
        "false_alarm",
        "force_close",
        "shelve",
        "out_of_service",
        "remark",
    ] {
        expected.push(format!("remark_for.{what}"));
    }
    expected.extend(
        ShelveFor::CHOICES
            .iter()
            .map(|choice| choice.key().to_owned()),
    );
    expected.extend(BINDINGS.iter().map(|binding| binding.help.to_owned()));

    for lang in [Lang::En, Lang::ZhCn] {
        let present = keys(lang);
        for key in &expected {
            assert!(
                present.contains(&key.as_str()),
                "{key} missing in {}",
                lang.code()
            );
        }
    }
}

#[test]
fn service_event_kinds_have_labels() {
    // The log browser shows a ticket or care event by this label; without
    // one it would show the stored kind name.
    for kind in guardroom::store::SERVICE_KINDS {
        for lang in [Lang::En, Lang::ZhCn] {
            let key = format!("duty.event_{kind}");
            assert!(lang.try_t(&key).is_some(), "{key} missing for {lang:?}");
        }
    }
}
