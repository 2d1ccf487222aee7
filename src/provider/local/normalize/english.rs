//! English words for numbers: cardinals (British, with "and"), ordinals,
//! years, decimals, digit strings, money, times of day and Roman numerals.
//! Pure functions from numbers to the words a reader would say; which text
//! becomes a number, and in which language, is decided in the parent module.

const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
/// Scale words, largest first, with their values.
const SCALES: [(u64, &str); 4] = [
    (1_000_000_000_000, "trillion"),
    (1_000_000_000, "billion"),
    (1_000_000, "million"),
    (1_000, "thousand"),
];
pub(super) const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The largest number read as words; longer digit strings are read digit by
/// digit (they are codes, not quantities).
pub(super) const MAX_CARDINAL: u64 = 999_999_999_999_999;

/// 0..=99 as words: "seven", "forty-two".
fn below_hundred(n: u64) -> String {
    let n = n as usize;
    if n < 20 {
        ONES[n].to_string()
    } else if n.is_multiple_of(10) {
        TENS[n / 10].to_string()
    } else {
        format!("{}-{}", TENS[n / 10], ONES[n % 10])
    }
}

/// 0..=999, with the British "and" after the hundreds: "three hundred and six".
fn below_thousand(n: u64) -> String {
    let (hundreds, rest) = (n / 100, n % 100);
    match (hundreds, rest) {
        (0, _) => below_hundred(rest),
        (h, 0) => format!("{} hundred", ONES[h as usize]),
        (h, r) => format!("{} hundred and {}", ONES[h as usize], below_hundred(r)),
    }
}

/// A cardinal number in words: 1005 → "one thousand and five",
/// 2_500_000 → "two million, five hundred thousand" (without the comma).
pub(super) fn cardinal(n: u64) -> String {
    if n == 0 {
        return "zero".into();
    }
    let mut parts = Vec::new();
    let mut rest = n;
    for (value, name) in SCALES {
        if rest >= value {
            parts.push(format!("{} {name}", below_thousand(rest / value)));
            rest %= value;
        }
    }
    if rest > 0 {
        // "one thousand and five": the "and" also stands before a last group
        // under a hundred when something bigger came first.
        if !parts.is_empty() && rest < 100 {
            parts.push(format!("and {}", below_hundred(rest)));
        } else {
            parts.push(below_thousand(rest));
        }
    }
    parts.join(" ")
}

/// An ordinal: 1 → "first", 22 → "twenty-second", 100 → "one hundredth".
pub(super) fn ordinal(n: u64) -> String {
    let words = cardinal(n);
    let split = words.rfind([' ', '-']).map_or(0, |i| i + 1);
    let (head, last) = words.split_at(split);
    let last = match last {
        "one" => "first".to_string(),
        "two" => "second".to_string(),
        "three" => "third".to_string(),
        "five" => "fifth".to_string(),
        "eight" => "eighth".to_string(),
        "nine" => "ninth".to_string(),
        "twelve" => "twelfth".to_string(),
        w if w.ends_with('y') => format!("{}ieth", &w[..w.len() - 1]),
        w => format!("{w}th"),
    };
    format!("{head}{last}")
}

/// A year as it is said: 1894 → "eighteen ninety-four", 1900 → "nineteen
/// hundred", 1905 → "nineteen oh five", 2000 → "two thousand", 2007 → "two
/// thousand and seven", 2024 → "twenty twenty-four". Other values are
/// cardinals.
pub(super) fn year(n: u64) -> String {
    if !(1100..=2099).contains(&n) || (2000..2010).contains(&n) {
        return cardinal(n);
    }
    let (century, rest) = (n / 100, n % 100);
    let head = below_hundred(century);
    match rest {
        0 => format!("{head} hundred"),
        1..=9 => format!("{head} oh {}", ONES[rest as usize]),
        _ => format!("{head} {}", below_hundred(rest)),
    }
}

/// A decade: 1890 → "eighteen nineties", 2000 → "two thousands".
pub(super) fn decade(n: u64) -> String {
    let words = year(n);
    match words.strip_suffix('y') {
        Some(stem) => format!("{stem}ies"),
        None => format!("{words}s"),
    }
}

/// Every digit as a word: "007" → "zero zero seven".
pub(super) fn digits(s: &str) -> String {
    s.chars()
        .filter_map(|c| c.to_digit(10))
        .map(|d| ONES[d as usize])
        .collect::<Vec<_>>()
        .join(" ")
}

/// A decimal number: "3.14" → "three point one four". `int` may carry
/// thousands commas.
pub(super) fn decimal(int: &str, frac: &str) -> String {
    format!("{} point {}", integer(int), digits(frac))
}

/// An integer as written (commas allowed): a cardinal, or digit by digit
/// when it has a leading zero or is too long to be a quantity.
pub(super) fn integer(s: &str) -> String {
    let plain: String = s.chars().filter(char::is_ascii_digit).collect();
    match plain.parse::<u64>() {
        Ok(n) if n <= MAX_CARDINAL && !(plain.len() > 1 && plain.starts_with('0')) => cardinal(n),
        _ => digits(&plain),
    }
}

/// The names of a currency's main unit and its hundredth, singular and plural.
pub(super) struct Currency {
    pub one: &'static str,
    pub many: &'static str,
    pub cent: Option<(&'static str, &'static str)>,
}

pub(super) fn currency(symbol: char) -> Option<Currency> {
    let c = |one, many, cent| Currency { one, many, cent };
    Some(match symbol {
        '$' => c("dollar", "dollars", Some(("cent", "cents"))),
        '£' => c("pound", "pounds", Some(("penny", "pence"))),
        '€' => c("euro", "euros", Some(("cent", "cents"))),
        '¥' | '￥' => c("yen", "yen", None),
        _ => return None,
    })
}

/// An amount of money: ("3", Some("50")) in dollars → "three dollars and
/// fifty cents"; with a scale word ("3.5", "million") → "three point five
/// million dollars".
pub(super) fn money(unit: &Currency, int: &str, frac: Option<&str>, scale: Option<&str>) -> String {
    if let Some(scale) = scale {
        let amount = match frac {
            Some(f) => decimal(int, f),
            None => integer(int),
        };
        return format!("{amount} {scale} {}", unit.many);
    }
    let whole: u64 = int
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or(0);
    let cents = match (frac, unit.cent) {
        (Some(f), Some(_)) if f.len() <= 2 => {
            // "$3.5" means fifty cents, not five.
            let padded = format!("{f:0<2}");
            padded.parse::<u64>().ok()
        }
        (Some(_), _) => {
            let amount = decimal(int, frac.unwrap_or_default());
            return format!("{amount} {}", unit.many);
        }
        (None, _) => None,
    };
    let main = format!(
        "{} {}",
        integer(int),
        if whole == 1 { unit.one } else { unit.many }
    );
    match (cents, unit.cent) {
        (Some(c), Some((one, many))) if c > 0 => {
            let cents = format!("{} {}", cardinal(c), if c == 1 { one } else { many });
            if whole == 0 {
                cents
            } else {
                format!("{main} and {cents}")
            }
        }
        _ => main,
    }
}

/// A time of day: (10, 30) → "ten thirty", (9, 5) → "nine oh five",
/// (10, 0) → "ten o'clock" (or just "ten" before "a.m."/"p.m.").
pub(super) fn time(hour: u64, minute: u64, has_suffix: bool) -> String {
    let h = cardinal(hour);
    match minute {
        0 if has_suffix => h,
        0 => format!("{h} o'clock"),
        1..=9 => format!("{h} oh {}", ONES[minute as usize]),
        _ => format!("{h} {}", below_hundred(minute)),
    }
}
