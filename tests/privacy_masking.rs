//! Masking of residents' personal data and the role × kind table of who may
//! reveal what, every cell asserted.

use guardroom::domain::privacy::{
    DataKind, RevealRecord, Role, mask_name, mask_phone, mask_room, may_reveal, reveal,
};
use jiff::Timestamp;

#[test]
fn name_masking_table() {
    let cases = [
        ("", ""),
        ("张", "*"),
        ("张明", "张*"),
        ("张小明", "张*明"),
        ("欧阳小明", "欧**明"),
        ("测试员甲", "测**甲"),
        ("  张小明 ", "张*明"),
        ("Li", "L*"),
        ("John Smith", "J**n S***h"),
        ("Ann B", "A*n *"),
        ("测试·员甲乙", "测*·员*乙"),
    ];
    for (name, masked) in cases {
        assert_eq!(mask_name(name), masked, "mask_name({name:?})");
    }
}

#[test]
fn phone_masking_table() {
    let cases = [
        ("13800005678", "138****5678"),
        ("138 0000 5678", "138****5678"),
        ("138-0000-5678", "138****5678"),
        ("+86 138 0000 5678", "+86 138****5678"),
        ("+852 6000 0000", "+852****0000"),
        ("010-6000 0001", "010****0001"),
        ("0755-6000-0001", "075*****0001"),
        ("60000001", "60****01"),
        ("6000001", "60***01"),
        ("120", "***"),
        ("", ""),
    ];
    for (phone, masked) in cases {
        assert_eq!(mask_phone(phone), masked, "mask_phone({phone:?})");
    }
}

#[test]
fn masked_phone_never_shows_middle_digits() {
    let masked = mask_phone("13812345678");
    assert!(!masked.contains("1234"), "{masked}");
    assert_eq!(masked.chars().filter(|c| *c == '*').count(), 4);
}

#[test]
fn room_masking_table() {
    let cases = [
        ("1201", "12**"),
        ("301", "3**"),
        ("A12", "A**"),
        ("5", "*"),
        ("", ""),
    ];
    for (room, masked) in cases {
        assert_eq!(mask_room(room), masked, "mask_room({room:?})");
    }
}

#[test]
fn kind_masks_with_its_function() {
    for kind in DataKind::ALL {
        let (value, expected) = match kind {
            DataKind::ResidentName | DataKind::ContactName | DataKind::ReporterName => {
                ("张小明", "张*明")
            }
            DataKind::ResidentPhone | DataKind::ContactPhone | DataKind::ReporterPhone => {
                ("13800005678", "138****5678")
            }
            DataKind::ResidentRoom | DataKind::RepairRoom => ("1201", "12**"),
        };
        assert_eq!(kind.mask(value), expected, "{kind:?}");
    }
}

#[test]
fn reveal_table_every_cell() {
    use DataKind as K;
    use Role::{Guard, Maintenance, Supervisor};
    // (kind, guard, maintenance, supervisor)
    let table = [
        (K::ResidentName, true, false, true),
        (K::ResidentPhone, true, false, true),
        (K::ResidentRoom, true, false, true),
        (K::ContactName, true, false, true),
        (K::ContactPhone, true, false, true),
        (K::ReporterName, false, true, true),
        (K::ReporterPhone, false, true, true),
        (K::RepairRoom, true, true, true),
    ];
    assert_eq!(
        table.len(),
        DataKind::ALL.len(),
        "a kind is missing from the table"
    );
    for (kind, guard, maintenance, supervisor) in table {
        assert_eq!(may_reveal(Guard, kind), guard, "guard × {kind:?}");
        assert_eq!(
            may_reveal(Maintenance, kind),
            maintenance,
            "maintenance × {kind:?}"
        );
        assert_eq!(
            may_reveal(Supervisor, kind),
            supervisor,
            "supervisor × {kind:?}"
        );
    }
}

#[test]
fn reveal_returns_value_and_record() {
    let at: Timestamp = "2026-12-04T02:00:00Z".parse().unwrap();
    let (value, record) = reveal(
        "值班员甲",
        Role::Guard,
        DataKind::ContactPhone,
        "r-0101",
        "13800000002",
        at,
    )
    .unwrap();
    assert_eq!(value, "13800000002");
    assert_eq!(
        record,
        RevealRecord {
            at,
            operator: "值班员甲".into(),
            role: Role::Guard,
            kind: DataKind::ContactPhone,
            subject: "r-0101".into(),
        }
    );
    let logged = serde_json::to_string(&record).unwrap();
    assert!(
        !logged.contains("13800000002"),
        "the record must not carry the value: {logged}"
    );
}

#[test]
fn reveal_refused_for_role() {
    let at: Timestamp = "2026-12-04T02:00:00Z".parse().unwrap();
    let refused = reveal(
        "维修员乙",
        Role::Maintenance,
        DataKind::ResidentPhone,
        "r-0101",
        "13800000001",
        at,
    )
    .unwrap_err();
    assert_eq!(refused.role, Role::Maintenance);
    assert_eq!(
        refused.to_string(),
        "role maintenance may not reveal resident_phone of r-0101; ask a supervisor"
    );
}

#[test]
fn role_names_round_trip() {
    for role in Role::ALL {
        assert_eq!(Role::parse(role.as_str()), Some(role));
    }
    assert_eq!(Role::parse("admin"), None);
}
