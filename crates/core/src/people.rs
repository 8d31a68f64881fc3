//! Roles and statuses of people in an organization.

use crate::Error;

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the stored or submitted text form.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }

            /// Parses a request field, naming the allowed values when it fails.
            pub fn parse_field(field: &str, s: &str) -> Result<Self, Error> {
                Self::parse(s).ok_or_else(|| {
                    let allowed: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    Error::field(field, &$crate::messages::rule::NOT_ONE_OF, &[("allowed", &allowed.join(", "))])
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_enum;

string_enum!(
    /// A person's role in the organization as a whole. Workspace roles are separate.
    OrgRole { SuperAdmin = "super_admin", Member = "member" }
);

string_enum!(
    /// `invited` until the invitation is accepted; `deactivated` people keep their
    /// history but can no longer sign in.
    UserStatus { Invited = "invited", Active = "active", Deactivated = "deactivated" }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_their_text() {
        for r in OrgRole::ALL {
            assert_eq!(OrgRole::parse(r.as_str()), Some(*r));
        }
        assert_eq!(UserStatus::parse("deactivated"), Some(UserStatus::Deactivated));
        let err = OrgRole::parse_field("role", "owner").unwrap_err();
        assert_eq!(err.errors[0].message, "`role` is not one of the choices. Use one of: super_admin, member.");
        assert!(err.errors[0].message_naming("Role").starts_with("Role is not one of"));
    }
}
