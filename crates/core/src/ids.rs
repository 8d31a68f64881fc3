//! Typed, prefixed identifiers (`org_…`, `usr_…`). The prefix tells a reader (and a
//! log search) what kind of object an id names, and parsing refuses an id of the
//! wrong kind, so a user id can never be passed where an organization id belongs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a string is not an id of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid {kind} id")]
pub struct InvalidId {
    pub kind: &'static str,
}

macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident, $prefix:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A new id; UUIDv7 underneath, so ids sort by creation time.
            pub fn new() -> Self {
                Self(format!("{}_{}", $prefix, uuid::Uuid::now_v7().simple()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Wraps a value read back from storage, where it was validated on the way in.
            pub fn from_trusted(value: String) -> Self {
                Self(value)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, InvalidId> {
                let valid = s
                    .strip_prefix(concat!($prefix, "_"))
                    .is_some_and(|rest| {
                        rest.len() == 32 && rest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                    });
                if valid {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(InvalidId { kind: $prefix })
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some(concat!("^", $prefix, "_[0-9a-f]{32}$")))
                    .examples([concat!($prefix, "_0193b1f2a4c87d3e9b5f6a7c8d9e0f12")])
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

typed_id!(
    /// An organization (tenant).
    OrgId, "org");
typed_id!(
    /// A person in an organization.
    UserId, "usr");
typed_id!(
    /// A workspace inside an organization.
    WorkspaceId, "ws");
typed_id!(
    /// A console or API login session.
    SessionId, "ses");
typed_id!(
    /// An API key of an organization.
    ApiKeyId, "key");
typed_id!(
    /// A pending or used invitation.
    InvitationId, "inv");
typed_id!(
    /// An audit event.
    EventId, "evt");
typed_id!(
    /// A campaign in a workspace.
    CampaignId, "cmp");
typed_id!(
    /// A content item (post) in a workspace.
    ContentId, "cnt");
typed_id!(
    /// A social platform connection of a workspace.
    ConnectionId, "con");
typed_id!(
    /// An uploaded media file.
    MediaId, "med");
typed_id!(
    /// A background job.
    JobId, "job");
typed_id!(
    /// A webhook endpoint of an organization.
    WebhookId, "wh");
typed_id!(
    /// One event sent to one endpoint, with its attempts.
    DeliveryId, "dlv");
typed_id!(
    /// A webhook message: the `webhook-id` a receiver dedupes by, the same on every attempt.
    MessageId, "msg");
typed_id!(
    /// A grant of credits: what debits draw from.
    GrantId, "grt");
typed_id!(
    /// One entry of the credit ledger.
    CreditEntryId, "cre");
typed_id!(
    /// A credit alert threshold.
    CreditAlertId, "cal");

typed_id!(
    /// A usage report (BILL-4).
    ReportId, "rpt");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_refuse_other_kinds() {
        let id = OrgId::new();
        assert!(id.as_str().starts_with("org_"));
        assert_eq!(id.as_str().parse::<OrgId>().unwrap(), id);
        assert!(id.as_str().parse::<UserId>().is_err());
        assert!("org_XYZ".parse::<OrgId>().is_err());
        assert!("org_0193b1f2a4c87d3e9b5f6a7c8d9e0f1".parse::<OrgId>().is_err());
    }

    #[test]
    fn ids_sort_by_creation() {
        let a = UserId::new();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = UserId::new();
        assert!(a < b);
    }
}
