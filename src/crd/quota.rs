//! `QuayQuota`: the storage quota of a Quay organization (or user namespace).

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{ManagedStatus, Management};
use super::reference::{LocalRef, NAMESPACE_PATTERN};

/// CEL rule of `limit`: a positive Kubernetes quantity of bytes (no milli
/// units) below 2^64 bytes: the integer part has at most as many digits as
/// keeps each unit under that (19 for bytes, 10 for `Gi`/`G`, 1 for `Ei`/`E`,
/// 10 with a one-digit exponent), so no accepted value overflows.
const QUANTITY_RULE: &str = concat!(
    "self.matches('^(([0-9]{1,19}(\\\\.[0-9]{0,9})?|\\\\.[0-9]{1,9})|([0-9]{1,16}(\\\\.[0-9]{0,9})?|\\\\.[0-9]{1,9})(Ki|k)|([0-9]{1,13}(\\\\.[0-9]{0,9})?|\\\\.[0-9]{1,9})(Mi|M)|([0-9]{1,10}(\\\\.[0-9]{0,9})?|\\\\.[0-9]{1,9})(Gi|G)|([0-9]{1,7}(\\\\.[0-9]{0,9})?|\\\\.[0-9]{1,9})(Ti|T)|([0-9]{1,4}(\\\\.[0-9]{0,9})?|\\\\.[0-9]{1,9})(Pi|P)|([0-9]{1,1}(\\\\.[0-9]{0,9})?|\\\\.[0-9]{1,9})(Ei|E)|([0-9]{1,10}(\\\\.[0-9]{0,9})?|\\\\.[0-9]{1,9})[eE][0-9])$') ",
    "&& !self.matches('^[0.]+([KMGTPE]i|[kMGTPE]|[eE][0-9])?$')"
);
const QUANTITY_MESSAGE: &str =
    "limit must be a positive quantity of bytes below 16Ei, such as 10Gi, 500Mi, 1T or 1.5G";

/// Schema of `limit`: a string (Kubernetes writes quantities as strings).
fn byte_quantity_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "minLength": 1,
        "maxLength": 32,
        "description": "The quota, as a Kubernetes quantity of bytes: `10Gi`, `500Mi`, `1T`, `1.5G`."
    })
}

/// Desired storage quota of a namespace.
// Printer columns repeat `type_`/`priority` values, which clippy mistakes for duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "quayconfig.io",
    version = "v1alpha1",
    kind = "QuayQuota",
    namespaced,
    status = "QuayQuotaStatus",
    shortname = "qquota",
    category = "quay",
    doc = "QuayQuota declares the storage quota of a Quay organization or user namespace and \
           its warning and reject thresholds. Quota writes need a superuser token.",
    validation = Rule::new(
        "[has(self.spec.organization), has(self.spec.organizationRef), has(self.spec.user)]\
         .filter(x, x).size() == 1"
    )
    .message("set exactly one of spec.organization, spec.organizationRef and spec.user"),
    validation = Rule::new(
        "(has(self.spec.organizationRef) ? self.spec.organizationRef.name : '') == \
         (has(oldSelf.spec.organizationRef) ? oldSelf.spec.organizationRef.name : '')"
    )
    .message("spec.organizationRef is immutable: create a new resource instead"),
    validation = Rule::new("!has(self.spec.user) || !has(self.spec.limits) || size(self.spec.limits) == 0")
        .message("Quay has no API for the thresholds of a user namespace quota: leave spec.limits unset"),
    printcolumn(name = "Namespace", type_ = "string", json_path = ".status.namespace"),
    printcolumn(name = "Limit", type_ = "string", json_path = ".spec.limit"),
    printcolumn(name = "Usage %", type_ = "integer", json_path = ".status.usagePercent")
)]
#[serde(rename_all = "camelCase")]
pub struct QuayQuotaSpec {
    /// Quay organization name. Set exactly one of `organization`, `organizationRef`, `user`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self == oldSelf").message("organization is immutable"))]
    #[schemars(length(min = 2, max = 255), regex(pattern = NAMESPACE_PATTERN))]
    pub organization: Option<String>,

    /// A QuayOrganization in this namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_ref: Option<LocalRef>,

    /// A Quay user namespace (through Quay's superuser endpoints; needs a superuser token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self == oldSelf").message("user is immutable"))]
    #[schemars(length(min = 2, max = 255), regex(pattern = NAMESPACE_PATTERN))]
    pub user: Option<String>,

    /// The quota, as a Kubernetes quantity of bytes: `10Gi`, `500Mi`, `1T`, `1.5G`.
    #[schemars(schema_with = "byte_quantity_schema")]
    #[x_kube(validation = Rule::new(QUANTITY_RULE).message(QUANTITY_MESSAGE))]
    pub limit: Quantity,

    /// The complete list of thresholds, in percent of the quota: Quay ends up with
    /// exactly these. Not managed when unset; `[]` removes them all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 16))]
    pub limits: Option<Vec<QuotaThreshold>>,

    /// Which QuayConnection to use and how far the Quay object is managed.
    #[serde(flatten)]
    pub management: Management,
}

/// One warning or reject threshold.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuotaThreshold {
    /// `Warning` (notify) or `Reject` (refuse pushes).
    #[serde(rename = "type")]
    pub kind: ThresholdKind,
    /// Percent of the quota, 1-100.
    #[schemars(range(min = 1, max = 100))]
    pub percent: u32,
}

/// Kind of threshold.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum ThresholdKind {
    /// Notify when usage passes the threshold.
    Warning,
    /// Refuse pushes past the threshold.
    Reject,
}

impl ThresholdKind {
    /// The name as Quay spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ThresholdKind::Warning => "Warning",
            ThresholdKind::Reject => "Reject",
        }
    }
}

/// Observed state of a QuayQuota.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QuayQuotaStatus {
    /// Conditions, generation, origin and drift, as every kind has them.
    #[serde(flatten)]
    pub common: ManagedStatus,
    /// The Quay namespace the quota belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub namespace: Option<String>,
    /// Quay's id of the quota.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota_id: Option<i64>,
    /// The quota in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_bytes: Option<u64>,
    /// Bytes the namespace uses, as Quay reports them (organizations only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_bytes: Option<u64>,
    /// Usage in percent of the quota.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_percent: Option<u32>,
}

/// Bytes of a Kubernetes quantity (`10Gi`, `500Mi`, `1.5G`, `1e9`), rounded up to a
/// whole byte as Kubernetes does. Negative or malformed quantities are an error.
pub fn quantity_bytes(quantity: &str) -> Result<u64, String> {
    let invalid = || format!("{quantity:?} is not a valid quantity (e.g. 10Gi, 500Mi, 1T)");
    let q = quantity.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+'))
        .unwrap_or(q.len());
    let (number, suffix) = q.split_at(split);
    if number.is_empty() || number.starts_with('.') && number.len() == 1 {
        return Err(invalid());
    }
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    let int_part = int_part.trim_start_matches('+');
    if !int_part.chars().all(|c| c.is_ascii_digit())
        || !frac_part.chars().all(|c| c.is_ascii_digit())
    {
        return Err(invalid());
    }
    // (multiplier numerator, base-10 exponent) of the suffix.
    let (multiplier, exp10): (u128, i32) = match suffix {
        "" => (1, 0),
        "Ki" => (1 << 10, 0),
        "Mi" => (1 << 20, 0),
        "Gi" => (1 << 30, 0),
        "Ti" => (1 << 40, 0),
        "Pi" => (1 << 50, 0),
        "Ei" => (1 << 60, 0),
        "m" => (1, -3),
        "k" => (1, 3),
        "M" => (1, 6),
        "G" => (1, 9),
        "T" => (1, 12),
        "P" => (1, 15),
        "E" => (1, 18),
        s if s.starts_with(['e', 'E']) => (1, s[1..].parse::<i32>().map_err(|_| invalid())?),
        _ => return Err(invalid()),
    };
    // value = digits * 10^(exp10 - frac_len) * multiplier, rounded up.
    let digits: u128 = format!("{int_part}{frac_part}")
        .parse::<u128>()
        .map_err(|_| invalid())?;
    let exp = exp10 - frac_part.len() as i32;
    let too_big = || format!("{quantity:?} is too large");
    let value = if exp >= 0 {
        digits
            .checked_mul(10u128.checked_pow(exp as u32).ok_or_else(too_big)?)
            .and_then(|v| v.checked_mul(multiplier))
            .ok_or_else(too_big)?
    } else {
        let divisor = 10u128.checked_pow((-exp) as u32).ok_or_else(invalid)?;
        let scaled = digits.checked_mul(multiplier).ok_or_else(too_big)?;
        scaled.div_ceil(divisor)
    };
    u64::try_from(value).map_err(|_| too_big())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::tests::cel;
    use serde_json::json;

    #[test]
    fn quantities_parse_like_kubernetes() {
        assert_eq!(quantity_bytes("10Gi"), Ok(10 * 1024 * 1024 * 1024));
        assert_eq!(quantity_bytes("500Mi"), Ok(500 * 1024 * 1024));
        assert_eq!(quantity_bytes("1.5Gi"), Ok(1_610_612_736));
        assert_eq!(quantity_bytes("5G"), Ok(5_000_000_000));
        assert_eq!(quantity_bytes("1e9"), Ok(1_000_000_000));
        assert_eq!(quantity_bytes("1E3"), Ok(1000));
        assert_eq!(quantity_bytes("123"), Ok(123));
        assert_eq!(quantity_bytes("1500m"), Ok(2), "rounded up to a whole byte");
        assert_eq!(quantity_bytes("0.1k"), Ok(100));
        for bad in ["", "Gi", "10 GB", "10gi", "-1Gi", "1.2.3", "100Ei"] {
            assert!(quantity_bytes(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn cel_wants_one_namespace_and_no_user_limits() {
        let quota =
            |spec: serde_json::Value| QuayQuota::new("q", serde_json::from_value(spec).unwrap());
        assert_eq!(
            cel(
                &quota(json!({"organization": "acme", "limit": "10Gi",
            "limits": [{"type": "Warning", "percent": 80}]})),
                None
            ),
            Ok(())
        );
        assert!(
            cel(
                &quota(json!({"organization": "acme", "user": "bob", "limit": "1Gi"})),
                None
            )
            .unwrap_err()
            .contains("exactly one")
        );
        assert!(
            cel(&quota(json!({"limit": "1Gi"})), None)
                .unwrap_err()
                .contains("exactly one")
        );
        assert!(
            cel(
                &quota(json!({"user": "bob", "limit": "1Gi",
            "limits": [{"type": "Reject", "percent": 100}]})),
                None
            )
            .unwrap_err()
            .contains("user namespace")
        );
    }

    /// What the rule accepts, the conversion turns into bytes: nothing the
    /// apiserver lets through fails later for its size.
    #[test]
    fn the_limit_rule_accepts_exactly_what_fits_in_64_bits() {
        let check = |limit: &str| {
            let quota = QuayQuota::new(
                "q",
                serde_json::from_value(json!({"organization": "acme", "limit": limit})).unwrap(),
            );
            cel(&quota, None)
        };
        for fits in [
            "10Gi",
            "1.5G",
            ".5Ti",
            "9999999999999999999",
            "9.999999999Ei",
            "9999999999e9",
            "1023Pi",
            "9999999Ti",
        ] {
            assert_eq!(check(fits), Ok(()), "{fits}");
            assert!(
                quantity_bytes(fits).is_ok(),
                "{fits}: {:?}",
                quantity_bytes(fits)
            );
        }
        for too_big in [
            "99999999999999999999",
            "10Ei",
            "16E",
            "99999Pi",
            "99999999999Gi",
            "1e19",
            "1e99",
        ] {
            let err = check(too_big).unwrap_err();
            assert!(err.contains("below 16Ei"), "{too_big}: {err}");
        }
        assert!(check("0Gi").unwrap_err().contains("positive"));
    }
}
