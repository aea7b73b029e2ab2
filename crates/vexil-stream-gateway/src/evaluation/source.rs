//! What the evaluation payloads read from an environment, and which flags a credential sees (spec 7.1, 8.1).

use vexil_eval::{Flag, FlagData, PreparedFlag, Store};

/// An environment's prepared flags and segments, as the evaluation payloads read them.
///
/// The store's per-environment state implements it once (its flags are prepared when they
/// arrive, so nothing is parsed per request); [`FlagData`] implements it for tests and tools.
pub trait EvaluationSource: Store {
    /// Every live (not deleted) flag, in any order.
    fn live_flags(&self) -> impl Iterator<Item = &PreparedFlag>;
}

impl EvaluationSource for FlagData {
    fn live_flags(&self) -> impl Iterator<Item = &PreparedFlag> {
        self.flags().filter(|flag| !flag.flag().deleted)
    }
}

/// Which flags a credential may evaluate (spec 7.1, 8.1).
///
/// The route maps the credential it authenticated: server-side SDK key -> [`Self::AllFlags`],
/// client-side id -> [`Self::ClientSideId`], mobile key -> [`Self::MobileKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlagVisibility {
    /// Every flag (server-side SDK key).
    AllFlags,
    /// Flags with `clientSideAvailability.usingEnvironmentId` (or the legacy `clientSide`).
    ClientSideId,
    /// Flags with `clientSideAvailability.usingMobileKey` (true when only `clientSide` is given).
    MobileKey,
}

impl FlagVisibility {
    /// Whether a credential of this kind may see `flag`.
    pub fn can_see(self, flag: &Flag) -> bool {
        match self {
            FlagVisibility::AllFlags => true,
            FlagVisibility::ClientSideId => flag.client_side_availability().using_environment_id,
            FlagVisibility::MobileKey => flag.client_side_availability().using_mobile_key,
        }
    }

    /// A stable name, part of the OFREP ETag (the same context sees other flags with another
    /// credential kind, so the ETags must differ).
    pub fn as_str(self) -> &'static str {
        match self {
            FlagVisibility::AllFlags => "all-flags",
            FlagVisibility::ClientSideId => "client-side-id",
            FlagVisibility::MobileKey => "mobile-key",
        }
    }
}

/// The live flags `visibility` sees, sorted by key so payloads are byte-for-byte stable.
pub fn visible_flags<S: EvaluationSource + ?Sized>(
    source: &S,
    visibility: FlagVisibility,
) -> Vec<&PreparedFlag> {
    let mut flags: Vec<&PreparedFlag> = source
        .live_flags()
        .filter(|flag| visibility.can_see(flag.flag()))
        .collect();
    flags.sort_unstable_by(|a, b| a.key().cmp(b.key()));
    flags
}

/// The live flag `key`, if `visibility` sees it; an invisible flag is reported as not found.
pub fn visible_flag<'a, S: EvaluationSource + ?Sized>(
    source: &'a S,
    key: &str,
    visibility: FlagVisibility,
) -> Option<&'a PreparedFlag> {
    source
        .flag(key)
        .filter(|flag| visibility.can_see(flag.flag()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn data() -> FlagData {
        FlagData::from_all_data(
            serde_json::from_value(json!({"flags": {
                "browser": {"clientSideAvailability": {"usingEnvironmentId": true, "usingMobileKey": false}},
                "mobile": {"clientSideAvailability": {"usingEnvironmentId": false, "usingMobileKey": true}},
                "legacy-client-side": {"clientSide": true},
                "legacy-server-only": {"clientSide": false},
                "server-only": {"clientSideAvailability": {"usingEnvironmentId": false, "usingMobileKey": false}},
                "deleted": {"deleted": true, "clientSide": true}
            }}))
            .unwrap(),
        )
    }

    fn keys(visibility: FlagVisibility) -> Vec<String> {
        visible_flags(&data(), visibility)
            .iter()
            .map(|flag| flag.key().to_owned())
            .collect()
    }

    #[test]
    fn each_credential_kind_sees_its_flags_sorted_and_never_deleted_ones() {
        assert_eq!(
            keys(FlagVisibility::AllFlags),
            [
                "browser",
                "legacy-client-side",
                "legacy-server-only",
                "mobile",
                "server-only"
            ]
        );
        assert_eq!(
            keys(FlagVisibility::ClientSideId),
            ["browser", "legacy-client-side"]
        );
        // Without `clientSideAvailability`, mobile SDKs see every flag (spec 1.1).
        assert_eq!(
            keys(FlagVisibility::MobileKey),
            ["legacy-client-side", "legacy-server-only", "mobile"]
        );
    }

    #[test]
    fn a_single_invisible_flag_is_not_found() {
        let data = data();
        assert!(visible_flag(&data, "mobile", FlagVisibility::ClientSideId).is_none());
        assert!(visible_flag(&data, "mobile", FlagVisibility::MobileKey).is_some());
        assert!(visible_flag(&data, "deleted", FlagVisibility::AllFlags).is_none());
        assert!(visible_flag(&data, "nope", FlagVisibility::AllFlags).is_none());
    }
}
