//! Operator roles.

use serde::{Deserialize, Serialize};

/// An operator's role, which decides what the operator may do and see.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 保安/值班员
    Guard,
    /// 维修
    Maintenance,
    /// 主管
    Supervisor,
}

impl Role {
    pub const ALL: [Role; 3] = [Self::Guard, Self::Maintenance, Self::Supervisor];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Guard => "guard",
            Self::Maintenance => "maintenance",
            Self::Supervisor => "supervisor",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == text)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
