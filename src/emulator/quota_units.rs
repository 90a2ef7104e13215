//! Human-readable storage sizes as Quay's quota endpoints accept and show them
//! (`"5 GiB"` in, `"5.0 GiB"` out, like Python's `bitmath`).

const SUFFIXES: &[&str] = &[
    "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB", "Ki", "Mi", "Gi", "Ti", "Pi",
    "Ei", "Zi", "Yi", "KB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB", "K", "M", "G", "T", "P", "E",
    "Z", "Y", "",
];

/// Parses `^(\d+\s?(B|KiB|...|Y)?)$` into a number of bytes; `None` if it does not match.
pub fn parse_human_size(s: &str) -> Option<f64> {
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if digits_end == 0 {
        return None;
    }
    let number: f64 = s[..digits_end].parse().ok()?;
    let mut rest = &s[digits_end..];
    if let Some(stripped) = rest.strip_prefix(|c: char| c.is_whitespace()) {
        rest = stripped;
    }
    if !SUFFIXES.contains(&rest) {
        return None;
    }
    let multiplier = match rest {
        "" | "B" => 1.0,
        unit => {
            let letter = unit.chars().next()?;
            let power = "KMGTPEZY".find(letter)? as i32 + 1;
            if unit.contains('i') {
                1024f64.powi(power)
            } else {
                1000f64.powi(power)
            }
        }
    };
    Some(number * multiplier)
}

/// Formats bytes like `bitmath.Byte(n).best_prefix().format("{value:.1f} {unit}")`.
pub fn format_bytes(bytes: i64) -> String {
    let units = [
        "Byte", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB",
    ];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value.abs() >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", units[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        assert_eq!(parse_human_size("5 GiB"), Some(5_368_709_120.0));
        assert_eq!(parse_human_size("2GiB"), Some(2_147_483_648.0));
        assert_eq!(parse_human_size("10"), Some(10.0));
        assert_eq!(parse_human_size("1.5 GiB"), None);
        assert_eq!(format_bytes(10_737_418_240), "10.0 GiB");
        assert_eq!(format_bytes(1_000_000_000), "953.7 MiB");
    }
}
