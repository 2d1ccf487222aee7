//! The normalisation rules, English and Chinese, each with the reading a
//! narrator would give, and the places a rule must keep out of.

use super::*;

fn en(text: &str) -> String {
    Normalizer::new(Reading::English, false).normalize(text)
}

fn zh(text: &str) -> String {
    Normalizer::new(Reading::Chinese, false).normalize(text)
}

fn auto(text: &str) -> String {
    Normalizer::new(Reading::Auto, false).normalize(text)
}

#[test]
fn english_cardinals() {
    assert_eq!(en("0"), "zero");
    assert_eq!(en("7 dwarfs"), "seven dwarfs");
    assert_eq!(en("42"), "forty-two");
    assert_eq!(en("100"), "one hundred");
    assert_eq!(en("306"), "three hundred and six");
    assert_eq!(en("1,005"), "one thousand and five");
    assert_eq!(en("10,000 men"), "ten thousand men");
    assert_eq!(
        en("2,500,312"),
        "two million five hundred thousand three hundred and twelve"
    );
    assert_eq!(en("3,000,000,000"), "three billion");
    assert_eq!(en("She had 12."), "She had twelve.");
}

#[test]
fn english_years_and_decades() {
    assert_eq!(
        en("Copyright 1894 by George Allen."),
        "Copyright eighteen ninety-four by George Allen."
    );
    assert_eq!(en("in 1900"), "in nineteen hundred");
    assert_eq!(en("in 1905"), "in nineteen oh five");
    assert_eq!(en("in 2000"), "in two thousand");
    assert_eq!(en("in 2007"), "in two thousand and seven");
    assert_eq!(en("in 2024"), "in twenty twenty-four");
    assert_eq!(en("the 1890s"), "the eighteen nineties");
    assert_eq!(en("1811-1820"), "eighteen eleven to eighteen twenty");
    // Outside the years, four digits are a quantity.
    assert_eq!(en("9000 feet"), "nine thousand feet");
}

#[test]
fn english_ordinals() {
    assert_eq!(en("1st"), "first");
    assert_eq!(en("2nd"), "second");
    assert_eq!(en("3rd"), "third");
    assert_eq!(en("the 4th of June"), "the fourth of June");
    assert_eq!(en("11th"), "eleventh");
    assert_eq!(en("12th"), "twelfth");
    assert_eq!(en("21st"), "twenty-first");
    assert_eq!(en("40th"), "fortieth");
    assert_eq!(en("100th"), "one hundredth");
    // A suffix that does not fit the number is left alone.
    assert_eq!(en("2th"), "2th");
}

#[test]
fn english_money() {
    assert_eq!(en("$3.50"), "three dollars and fifty cents");
    assert_eq!(en("$1"), "one dollar");
    assert_eq!(en("$1.01"), "one dollar and one cent");
    assert_eq!(en("$0.75"), "seventy-five cents");
    assert_eq!(en("$3.5"), "three dollars and fifty cents");
    assert_eq!(en("$1,000"), "one thousand dollars");
    assert_eq!(en("$2 million"), "two million dollars");
    assert_eq!(en("$2.5 billion"), "two point five billion dollars");
    assert_eq!(en("£5"), "five pounds");
    assert_eq!(en("£2.50"), "two pounds and fifty pence");
    assert_eq!(en("€10"), "ten euros");
    assert_eq!(en("¥500"), "five hundred yen");
    assert_eq!(
        en("It cost $3.50, not $4."),
        "It cost three dollars and fifty cents, not four dollars."
    );
}

#[test]
fn english_percentages_decimals_negatives_ranges() {
    assert_eq!(en("50%"), "fifty percent");
    assert_eq!(en("3.5 %"), "three point five percent");
    assert_eq!(en("3.14"), "three point one four");
    assert_eq!(en("-5 degrees"), "minus five degrees");
    assert_eq!(en("pages 10-20"), "pages ten to twenty");
    assert_eq!(en("007"), "zero zero seven");
    // A telephone number is not a range: digit by digit.
    assert_eq!(
        en("call 555-1234"),
        "call five five five, one two three four"
    );
    assert_eq!(zh("电话010-12345678"), "电话零一零，一二三四五六七八");
}

#[test]
fn english_times_and_dates() {
    assert_eq!(en("at 10:30"), "at ten thirty");
    assert_eq!(en("at 9:05"), "at nine oh five");
    assert_eq!(en("at 10:00"), "at ten o'clock");
    assert_eq!(en("at 7:15 pm"), "at seven fifteen p.m.");
    assert_eq!(en("at 6 a.m."), "at six a.m.");
    assert_eq!(en("at 6:00 A.M."), "at six a.m.");
    assert_eq!(en("25:00"), "25:00");
    assert_eq!(en("2024-01-15"), "January fifteenth, twenty twenty-four");
    assert_eq!(
        en("on January 15, 2024"),
        "on January fifteenth, twenty twenty-four"
    );
    assert_eq!(en("on Nov. 5"), "on November fifth");
    assert_eq!(
        en("on 15 March 1820"),
        "on the fifteenth of March eighteen twenty"
    );
    assert_eq!(en("on the 3rd May"), "on the third of May");
    assert_eq!(en("by 3rd May"), "by the third of May");
}

#[test]
fn english_roman_numerals_in_headings() {
    assert_eq!(en("CHAPTER I."), "CHAPTER one.");
    assert_eq!(en("Chapter IV"), "Chapter four");
    assert_eq!(en("Chapter XLII. The Ball"), "Chapter forty-two. The Ball");
    assert_eq!(en("Book II, Part III"), "Book two, Part three");
    assert_eq!(
        en("Volume MCMXC"),
        "Volume one thousand nine hundred and ninety"
    );
    // Only after a heading word, and only well-formed numerals.
    assert_eq!(en("I said I was"), "I said I was");
    assert_eq!(en("Chapter IIII"), "Chapter IIII");
    assert_eq!(en("Chapter Ivy"), "Chapter Ivy");
}

#[test]
fn english_leaves_words_with_digits_alone() {
    assert_eq!(en("an MP3 file"), "an MP3 file");
    assert_eq!(en("a 3x4 grid"), "a 3x4 grid");
    assert_eq!(en("COVID-19"), "COVID-nineteen");
    assert_eq!(en("no numbers here."), "no numbers here.");
    assert_eq!(en("v1.2.3"), "v1.2.3");
}

#[test]
fn chinese_cardinals() {
    assert_eq!(zh("5"), "五");
    assert_eq!(zh("10"), "十");
    assert_eq!(zh("15"), "十五");
    assert_eq!(zh("20"), "二十");
    assert_eq!(zh("110"), "一百一十");
    assert_eq!(zh("1005"), "一千零五");
    assert_eq!(zh("1010"), "一千零一十");
    assert_eq!(zh("20000"), "二万");
    assert_eq!(zh("100000"), "十万");
    assert_eq!(zh("200100"), "二十万零一百");
    assert_eq!(zh("10010000"), "一千零一万");
    assert_eq!(zh("100000001"), "一亿零一");
    assert_eq!(zh("1,000"), "一千");
}

#[test]
fn chinese_dates_years_and_counts() {
    assert_eq!(zh("2024年3月15日"), "二零二四年三月十五日");
    assert_eq!(zh("1894年"), "一八九四年");
    assert_eq!(zh("2024-01-15"), "二零二四年一月十五日");
    assert_eq!(zh("第3章"), "第三章");
    assert_eq!(zh("第2章"), "第二章");
    assert_eq!(zh("2个人"), "两个人");
    assert_eq!(zh("12个人"), "十二个人");
    assert_eq!(zh("3年"), "三年");
}

#[test]
fn chinese_money_percent_time_decimals() {
    assert_eq!(zh("50%"), "百分之五十");
    assert_eq!(zh("3.5%"), "百分之三点五");
    assert_eq!(zh("５０％"), "百分之五十");
    assert_eq!(zh("¥100"), "一百元");
    assert_eq!(zh("￥3.50"), "三点五元");
    assert_eq!(zh("$20"), "二十美元");
    assert_eq!(zh("10:30"), "十点三十分");
    assert_eq!(zh("１０：０５"), "十点零五分");
    assert_eq!(zh("8:00"), "八点");
    assert_eq!(zh("3.14"), "三点一四");
    assert_eq!(zh("-5"), "负五");
    assert_eq!(zh("3-5天"), "三到五天");
    assert_eq!(zh("电话010"), "电话零一零");
}

#[test]
fn auto_reads_digits_in_the_language_around_them() {
    assert_eq!(auto("他有3个苹果。"), "他有三个苹果。");
    assert_eq!(auto("I have 3 apples."), "I have three apples.");
    assert_eq!(
        auto("他说 in 1894 it rained"),
        "他说 in eighteen ninety-four it rained"
    );
    assert_eq!(auto("价格是 $5。"), "价格是 五美元。");
    assert_eq!(auto("2024年, in English"), "二零二四年, in English");
    assert_eq!(auto("12"), "twelve");
    assert_eq!(auto("Chapter III 第3回"), "Chapter three 第三回");
}

#[test]
fn notes_are_skipped_unless_kept() {
    let note = "劚【左“属”右“立刀”】，音竹。";
    assert_eq!(zh(note), "劚，音竹。");
    assert_eq!(
        Normalizer::new(Reading::Chinese, true).normalize(note),
        note
    );
    assert_eq!(en("a 【note】 here"), "a here");
    assert_eq!(en("【note】 start"), "start");
    assert_eq!(en("nested 【a【b】c】 end"), "nested end");
    assert_eq!(zh("只有【注】"), "只有");
    assert_eq!(zh("【全是注】"), "");
    // An unclosed bracket is text, not a note.
    assert_eq!(zh("开【没有关"), "开【没有关");
}

#[test]
fn normalising_twice_changes_nothing_more() {
    for text in [
        "It cost $3.50 in 1894, on January 15.",
        "他有3个苹果，花了¥3.50。",
        "CHAPTER XII. 50% at 10:30.",
    ] {
        let once = auto(text);
        assert_eq!(auto(&once), once, "{text}");
    }
}

proptest::proptest! {
    /// Any text, in any reading: no panic (every cut is on a character
    /// boundary), and text without digits, notes, currency signs, minus
    /// signs or heading words comes back as it was.
    #[test]
    fn any_text_is_safe(text in "[a-zA-Z0-9 .,:%$£€¥￥\\-–—【】第年个月日中文３％：]{0,40}") {
        for reading in [Reading::Auto, Reading::English, Reading::Chinese] {
            let out = Normalizer::new(reading, false).normalize(&text);
            let plain = !text.contains(|c: char| {
                c.is_ascii_digit() || "【】$£€¥￥-−３％".contains(c)
            }) && !text.contains("Chapter");
            if plain {
                proptest::prop_assert_eq!(&out, &text);
            }
        }
    }
}
