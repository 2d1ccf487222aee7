//! The English golden rules of the Pragmatic Segmenter, from our fixture
//! `fixtures/golden_en.txt`, run through `split_paragraph` at default limits.

use crate::segment::{Lang, Limits, split_paragraph};

const FIXTURE: &str = include_str!("../fixtures/golden_en.txt");

/// The classic golden rules are numbered 1 to 48; later additions are extras.
const CLASSIC: usize = 48;
const CLASSIC_MIN_PASS: usize = 46;

struct Case {
    number: usize,
    title: String,
    input: String,
    expected: Vec<String>,
}

fn parse_cases(text: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for line in text.lines() {
        if let Some(head) = line.strip_prefix("== ") {
            let (number, title) = head.split_once(' ').unwrap_or((head, ""));
            cases.push(Case {
                number: number.parse().unwrap_or(0),
                title: title.to_string(),
                input: String::new(),
                expected: Vec::new(),
            });
        } else if let (Some(input), Some(case)) = (line.strip_prefix("< "), cases.last_mut()) {
            case.input = input.replace("\\n", "\n");
        } else if let (Some(sentence), Some(case)) = (line.strip_prefix("> "), cases.last_mut()) {
            case.expected.push(sentence.to_string());
        }
    }
    cases
}

/// Sentences compare with whitespace runs collapsed: segments are trimmed and
/// a newline inside a paragraph is just a space to a voice.
fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn passes(case: &Case) -> (bool, Vec<String>) {
    let got: Vec<String> = split_paragraph(&case.input, Lang::En, Limits::default())
        .iter()
        .map(|s| normalise(s))
        .collect();
    let want: Vec<String> = case.expected.iter().map(|s| normalise(s)).collect();
    (got == want, got)
}

#[test]
fn fixture_has_all_cases() {
    let cases = parse_cases(FIXTURE);
    assert_eq!(cases.len(), 52);
    for (i, case) in cases.iter().enumerate() {
        assert_eq!(case.number, i + 1, "case numbers run in order");
        assert!(
            !case.input.is_empty() && !case.expected.is_empty(),
            "case {}",
            case.number
        );
    }
}

#[test]
fn golden_rules_english() {
    let cases = parse_cases(FIXTURE);
    let mut classic_pass = 0;
    let mut extra_pass = 0;
    for case in &cases {
        let (ok, got) = passes(case);
        match (ok, case.number <= CLASSIC) {
            (true, true) => classic_pass += 1,
            (true, false) => extra_pass += 1,
            (false, _) => println!(
                "golden rule {} ({}) fails:\n  input:    {:?}\n  expected: {:?}\n  got:      {:?}",
                case.number, case.title, case.input, case.expected, got
            ),
        }
    }
    println!(
        "golden rules: {classic_pass}/{CLASSIC} classic pass, {extra_pass}/{} extras pass",
        cases.len() - CLASSIC
    );
    assert!(
        classic_pass >= CLASSIC_MIN_PASS,
        "only {classic_pass} of {CLASSIC} golden rules pass"
    );
}
