//! Chinese readings of numbers written in Arabic digits: cardinals with 万 and
//! 亿 groups and the zeros a reader says (1005 → 一千零五), digit-by-digit
//! years and codes, decimals, percentages, money, dates and times. Pure
//! functions; which digits are Chinese is decided in the parent module.

const DIGITS: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
/// Group names for every four digits, from the right.
const GROUPS: [&str; 4] = ["", "万", "亿", "万亿"];

/// Measure words after which a lone 2 is read 两 ("2个" → 两个).
const MEASURE_WORDS: &str =
    "个位只本次天年岁件张条把名人份块种家辆头匹双对部台间所层座篇首句章回点";

/// The largest number read as a quantity; longer digit strings are codes.
pub(super) const MAX_CARDINAL: u64 = 9_999_999_999_999_999;

/// 0..=9999 within a larger number, with a 零 for each run of inner zeros.
fn group(n: u64, out: &mut String) {
    let units = ["千", "百", "十", ""];
    let digits = [n / 1000, n / 100 % 10, n / 10 % 10, n % 10];
    let mut pending_zero = false;
    for (i, d) in digits.iter().enumerate() {
        if *d == 0 {
            pending_zero = !out.is_empty();
            continue;
        }
        if pending_zero {
            out.push('零');
            pending_zero = false;
        }
        out.push(DIGITS[*d as usize]);
        out.push_str(units[i]);
    }
}

/// A cardinal: 10 → 十, 15 → 十五, 110 → 一百一十, 1005 → 一千零五,
/// 20_000 → 二万, 100_000_001 → 一亿零一.
pub(super) fn cardinal(n: u64) -> String {
    if n == 0 {
        return "零".into();
    }
    let mut groups = Vec::new();
    let mut rest = n;
    while rest > 0 {
        groups.push(rest % 10_000);
        rest /= 10_000;
    }
    let mut out = String::new();
    for (i, g) in groups.iter().enumerate().rev() {
        if *g == 0 {
            continue;
        }
        // A group under 1000 after a higher group is read with a 零 before it.
        if !out.is_empty() && *g < 1000 {
            out.push('零');
        }
        let mut part = String::new();
        group(*g, &mut part);
        out.push_str(&part);
        out.push_str(GROUPS[i.min(GROUPS.len() - 1)]);
    }
    // A number that starts with 10..=19 is read 十五, 十万, not 一十五.
    if out.starts_with("一十") {
        out.remove(0);
    }
    out
}

/// Every digit: "2024" → 二零二四 (years and codes are read this way).
pub(super) fn digits(s: &str) -> String {
    s.chars()
        .filter_map(|c| c.to_digit(10))
        .map(|d| DIGITS[d as usize])
        .collect()
}

/// An integer as written (commas allowed): a cardinal, or digit by digit
/// with a leading zero or beyond [`MAX_CARDINAL`].
pub(super) fn integer(s: &str) -> String {
    let plain: String = s.chars().filter(char::is_ascii_digit).collect();
    match plain.parse::<u64>() {
        Ok(n) if n <= MAX_CARDINAL && !(plain.len() > 1 && plain.starts_with('0')) => cardinal(n),
        _ => digits(&plain),
    }
}

/// An integer between `around.0` and `around.1`: a lone 2 before a measure
/// word is 两 (两个, 两点), except as an ordinal (第二章).
pub(super) fn counted(s: &str, around: (Option<char>, Option<char>)) -> String {
    let (before, after) = around;
    let counts = after.is_some_and(|c| MEASURE_WORDS.contains(c)) && before != Some('第');
    if s == "2" && counts {
        "两".into()
    } else {
        integer(s)
    }
}

/// "3.14" → 三点一四.
pub(super) fn decimal(int: &str, frac: &str) -> String {
    format!("{}点{}", integer(int), digits(frac))
}

/// "50" → 百分之五十.
pub(super) fn percent(amount: &str) -> String {
    format!("百分之{amount}")
}

/// The currency word read after the amount.
pub(super) fn currency(symbol: char) -> Option<&'static str> {
    Some(match symbol {
        '¥' | '￥' => "元",
        '$' => "美元",
        '€' => "欧元",
        '£' => "英镑",
        _ => return None,
    })
}

/// A date: (2024, 1, 15) → 二零二四年一月十五日.
pub(super) fn date(year: &str, month: u64, day: u64) -> String {
    format!("{}年{}月{}日", digits(year), cardinal(month), cardinal(day))
}

/// A time of day: (10, 30) → 十点三十分, (9, 5) → 九点零五分, (10, 0) → 十点.
pub(super) fn time(hour: u64, minute: u64) -> String {
    let h = cardinal(hour);
    match minute {
        0 => format!("{h}点"),
        1..=9 => format!("{h}点零{}分", DIGITS[minute as usize]),
        _ => format!("{h}点{}分", cardinal(minute)),
    }
}
