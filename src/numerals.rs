//! Roman numerals, read one way for the whole crate: the chapter checks
//! number headings with them, the embedded engine's normaliser reads them
//! aloud. Only the canonical spelling is a numeral ("IIII", "VX" and "IC"
//! are not), upper or lower case.

/// The value of a well-formed Roman numeral (I to MMMCMXCIX, either case),
/// or None.
pub fn roman(s: &str) -> Option<u64> {
    let value = |c| match c {
        'I' => Some(1),
        'V' => Some(5),
        'X' => Some(10),
        'L' => Some(50),
        'C' => Some(100),
        'D' => Some(500),
        'M' => Some(1000),
        _ => None,
    };
    let upper = s.to_ascii_uppercase();
    let values: Vec<u64> = upper.chars().map(value).collect::<Option<_>>()?;
    let mut total = 0;
    for (i, v) in values.iter().enumerate() {
        match values.get(i + 1) {
            Some(next) if next > v => total -= *v as i64,
            _ => total += *v as i64,
        }
    }
    let total = u64::try_from(total)
        .ok()
        .filter(|t| (1..4000).contains(t))?;
    // Only the canonical spelling counts ("IIII", "VX" and "IC" are not numerals).
    (to_roman(total) == upper).then_some(total)
}

fn to_roman(mut n: u64) -> String {
    const TABLE: [(u64, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut out = String::new();
    for (value, letters) in TABLE {
        while n >= value {
            out.push_str(letters);
            n -= value;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::roman;

    #[test]
    fn canonical_numerals_in_either_case() {
        assert_eq!(roman("XLII"), Some(42));
        assert_eq!(roman("xlii"), Some(42));
        assert_eq!(roman("MMMCMXCIX"), Some(3999));
        for bad in ["", "IIII", "VX", "IC", "ABC", "MMMM"] {
            assert_eq!(roman(bad), None, "{bad}");
        }
    }
}
